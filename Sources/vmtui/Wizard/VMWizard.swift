import Engine
import TUI

/// The seven-step wizard for a new VM, and the same steps for editing one.
enum VMWizard {
    static func make(draft: VMDraft, screen: MainScreen) -> Wizard {
        let running = draft.original.map { screen.processes[$0.name]?.state.isActive == true } ?? false
        let model = DraftModel(draft: draft, library: screen.library, isRunning: running)
        let steps: [any WizardStep] = [
            ModeStep(model), OSStep(model), ISOStep(model), ResourcesStep(model),
            DiskStep(model), NetworkStep(model), SummaryStep(model),
        ]
        let editing = model.isEditing
        return Wizard(
            title: editing ? "Edit \(draft.name)" + (running ? " (running: changes apply at next start)" : "") : "New virtual machine",
            steps: steps,
            finishTitle: editing ? "Save" : "Create",
            onFinish: {
                do {
                    let detached = model.draft.detachedImages(library: model.library)
                    let config = try model.draft.commit(to: model.library)
                    screen.reload(selecting: config.name)
                    var message = !editing ? "created \(config.name)"
                        : running ? "saved \(config.name): it is running, so the changes apply at its next start" : "saved \(config.name)"
                    if !detached.isEmpty {
                        message += "; the old \(detached.joined(separator: ", ")) stays in the VM's folder, unused"
                    }
                    screen.show(message)
                    return nil
                } catch {
                    return "\(error)"
                }
            },
            onCancel: { screen.show(editing ? "edit cancelled: nothing changed" : "cancelled: nothing written") }
        )
    }
}
