import Engine
import Foundation
import TUI

/// Step 7: the name and everything chosen, before anything is written.
final class SummaryStep: WizardStep {
    let model: DraftModel
    let name: TextField
    let summary: TextBlock
    let form: Form
    private var suggestedName = ""

    init(_ model: DraftModel) {
        self.model = model
        name = TextField(label: "Name", text: model.draft.name, placeholder: "letters, digits, . _ -")
        summary = TextBlock(text: "")
        var fields: [any FormField] = model.isEditing ? [] : [name]
        fields += [TextBlock(text: " "), summary]
        form = Form(fields: fields)
    }

    var heading: String {
        guard model.isEditing else { return "Name it and create it?" }
        return model.isRunning ? "Save these settings for \(model.draft.name)'s next start?" : "Save these settings?"
    }

    /// "linux", "linux-2", ... : the first name not taken.
    static func freeName(for model: DraftModel) -> String {
        let base = model.draft.osType.rawValue
        var candidate = base
        var n = 2
        while model.library.exists(name: candidate) { candidate = "\(base)-\(n)"; n += 1 }
        return candidate
    }

    func enter() {
        // Suggest a name from the OS type until the user types their own.
        if name.text.isEmpty || name.text == suggestedName {
            suggestedName = SummaryStep.freeName(for: model)
            name.text = suggestedName
        }
        let config = model.draft.makeConfig(library: model.library)
        var rows = config.details(library: model.library)
        for image in model.draft.detachedImages(library: model.library) {
            rows.append(("Detached", "\(image) is no longer attached; it stays in the VM's folder (delete it there to free its space)"))
        }
        summary.text = rows.map { label, value in
            label.padding(toLength: 9, withPad: " ", startingAt: 0) + value
        }.joined(separator: "\n")
    }

    func update() {}

    func commit() -> String? {
        guard !model.isEditing else { return nil }
        let text = name.text.trimmingCharacters(in: .whitespaces)
        guard VMName.isValid(text) else { return "Name \"\(text)\" is not usable; \(VMName.rule)." }
        guard !model.library.exists(name: text) else { return "A VM named \(text) already exists; choose another name." }
        model.draft.name = text
        return nil
    }
}
