import Engine
import TUI

/// Step 4: memory and CPUs, limited to what this host has.
final class ResourcesStep: WizardStep {
    let model: DraftModel
    let heading = "How much memory and how many CPUs?"
    let memory: NumberField
    let cpus: NumberField
    let form: Form

    init(_ model: DraftModel) {
        self.model = model
        let limits = model.limits
        memory = NumberField(label: "Memory", value: model.draft.memoryMiB, range: limits.memoryRange, unit: "MiB", step: 64)
        cpus = NumberField(label: "CPUs", value: model.draft.cpuCount, range: limits.cpuRange)
        form = Form(fields: [
            memory, cpus, TextBlock(text: " "),
            TextBlock(text: "Memory: up to \(limits.memoryRange.upperBound) MiB (\(limits.memoryLimitReason)). "
                      + "This host has \(limits.cpuCount) CPUs; more vCPUs than that run slower"
                      + ". Type a number, or ←→ to step."),
        ])
    }

    func enter() {
        memory.show(model.draft.memoryMiB)
        cpus.show(model.draft.cpuCount)
    }
    func update() {}

    func commit() -> String? {
        guard let mib = memory.value, memory.isInRange else {
            return "Memory must be \(memory.range.lowerBound)…\(memory.range.upperBound) MiB (\(model.limits.memoryLimitReason))."
        }
        guard let count = cpus.value, cpus.isInRange else {
            return "CPUs must be \(cpus.range.lowerBound)…\(cpus.range.upperBound) on this host."
        }
        model.draft.memoryMiB = mib
        model.draft.cpuCount = count
        return nil
    }
}
