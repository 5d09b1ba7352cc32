import Engine
import TUI

/// Step 2: the guest OS type, which fills in memory, disk size and disk interface defaults.
final class OSStep: WizardStep {
    let model: DraftModel
    let heading = "What will run in it?"
    let choice: ChoiceField
    let form: Form

    static let types: [(VMConfig.OSType, String)] = [(.linux, "Linux"), (.windows, "Windows"), (.dos, "DOS"), (.other, "Other")]

    init(_ model: DraftModel) {
        self.model = model
        choice = ChoiceField(label: "OS", options: OSStep.types.map { os, title in
            ChoiceOption(title, "\(os.defaultMemoryMiB) MiB, \(ByteSize.format(os.defaultDiskBytes)) \(os.defaultDiskInterface.rawValue) disk")
        }, selected: OSStep.types.firstIndex { $0.0 == model.draft.osType } ?? 3)
        form = Form(fields: [choice, TextBlock(text: " "), TextBlock(text: "The next steps start from these defaults; you can change each one.")])
    }

    func enter() {}
    func update() {}

    func commit() -> String? {
        let os = OSStep.types[choice.selected].0
        guard model.defaultsAppliedFor != os else { return nil }
        let format = model.diskFormats.contains(.qcow2) ? VMConfig.DiskFormat.qcow2 : model.diskFormats.first ?? .raw
        model.draft.applyDefaults(for: os, diskFormat: format)
        if !model.isEditing, model.draft.disk == .none {
            model.draft.disk = .new(sizeBytes: os.defaultDiskBytes, format: format)
        }
        model.defaultsAppliedFor = os
        return nil
    }
}
