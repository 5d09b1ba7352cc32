import Engine
import TUI

/// Step 1: Emulate or Virtualize, and whether KVM is usable here.
final class ModeStep: WizardStep {
    let model: DraftModel
    let heading = "How should this VM run?"
    let choice: ChoiceField
    let kvmNote: TextBlock
    let form: Form

    init(_ model: DraftModel) {
        self.model = model
        choice = ChoiceField(label: "Run by", options: [
            ChoiceOption("Emulate", "software CPU: runs on any host, slower"),
            ChoiceOption("Virtualize", NotYetAvailable.annotate("KVM", NotYetAvailable.mode(.virtualize))),
        ], selected: model.draft.mode == .emulate ? 0 : 1)
        kvmNote = TextBlock(text: model.kvm.explanation, role: model.kvm.isAvailable ? nil : .error)
        form = Form(fields: [choice, TextBlock(text: " "), kvmNote])
    }

    func enter() {}
    func update() {}

    func commit() -> String? {
        if choice.selected == 1 && !model.kvm.isAvailable {
            return "Virtualize is not available here; choose Emulate (it runs the same VM with a software CPU)."
        }
        model.draft.mode = choice.selected == 0 ? .emulate : .virtualize
        return nil
    }
}
