import Engine
import Foundation
import TUI

/// Step 3: the boot ISO (checked to be ISO 9660), or none.
final class ISOStep: WizardStep {
    let model: DraftModel
    let heading = "Boot from an ISO image?"
    let path: TextField
    let form: Form

    init(_ model: DraftModel) {
        self.model = model
        path = TextField(label: "ISO file", text: model.draft.iso ?? "", placeholder: "none") {
            PathCompleter.complete($0, extensions: ["iso"])
        }
        form = Form(fields: [
            path, TextBlock(text: " "),
            TextBlock(text: "Type a path; Tab completes file and folder names. Leave it empty to boot without an ISO "
                      + "(from the disk, or attach one later with `vmtui set NAME iso=PATH`)."),
        ])
    }

    func enter() {}
    func update() {}

    func commit() -> String? {
        let text = path.text.trimmingCharacters(in: .whitespaces)
        guard !text.isEmpty else { model.draft.iso = nil; return nil }
        let absolute = PathArgument.absolute(text)
        do { try BootMedia.checkISO(absolute) } catch { return "\(error)" }
        model.draft.iso = absolute
        return nil
    }
}
