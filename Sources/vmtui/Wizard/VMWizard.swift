import Engine
import TUI

/// The seven-step wizard for a new VM, and the same steps for editing one.
enum VMWizard {
    static func make(draft: VMDraft, screen: MainScreen) -> Wizard {
        let model = DraftModel(draft: draft, library: screen.library)
        let steps: [any WizardStep] = [
            ModeStep(model), OSStep(model), ISOStep(model), ResourcesStep(model),
            DiskStep(model), NetworkStep(model), SummaryStep(model),
        ]
        let editing = model.isEditing
        return Wizard(
            title: editing ? "Edit \(draft.name)" : "New virtual machine", steps: steps,
            finishTitle: editing ? "Save" : "Create",
            onFinish: {
                do {
                    let config = try model.draft.commit(to: model.library)
                    screen.reload(selecting: config.name)
                    screen.show(editing ? "saved \(config.name)" : "created \(config.name)")
                    return nil
                } catch {
                    return "\(error)"
                }
            },
            onCancel: { screen.show(editing ? "edit cancelled: nothing changed" : "cancelled: nothing written") }
        )
    }
}
