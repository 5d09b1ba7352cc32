import Engine
import Foundation
import TUI

/// Step 5: a new disk image (size, format, interface), an existing image, or none.
final class DiskStep: WizardStep {
    enum Kind { case keep, new, existing, none }

    let model: DraftModel
    let heading = "Which disk should it have?"
    let kinds: [Kind]
    let kind: ChoiceField
    let size: TextField
    let format: ChoiceField
    let formatNote: TextBlock
    let interface: ChoiceField
    let path: TextField
    let form: Form

    init(_ model: DraftModel) {
        self.model = model
        var kinds: [Kind] = [.new, .existing, .none]
        var options = [
            ChoiceOption("New image", "an empty disk, grows as the guest writes"),
            ChoiceOption("Existing image", "use an image file you already have"),
            ChoiceOption("No disk", "boot from the ISO only"),
        ]
        if model.isEditing, !(model.draft.original?.disks.isEmpty ?? true) {
            kinds.insert(.keep, at: 0)
            options.insert(ChoiceOption("Keep current", model.draft.original!.disks.map(\.path).joined(separator: ", ")), at: 0)
        }
        self.kinds = kinds
        kind = ChoiceField(label: "Disk", options: options)
        size = TextField(label: "Size", placeholder: "e.g. 8G")
        format = ChoiceField(label: "Format", options: model.diskFormats.map { ChoiceOption($0.rawValue) }, horizontal: true)
        formatNote = TextBlock(text: model.diskFormats == [.raw]
            ? "Only raw (sparse) images can be made until the qcow2/VDI writer lands." : "")
        interface = ChoiceField(label: "Interface", options: VMConfig.DiskInterface.allCases.map { ChoiceOption($0.rawValue) },
                                horizontal: true)
        path = TextField(label: "Image", placeholder: "path to a .qcow2, .vdi or raw image") { PathCompleter.complete($0) }
        form = Form(fields: [kind, TextBlock(text: " "), size, format, formatNote, interface, path])
    }

    func enter() {
        let draft = model.draft
        let current: Kind
        switch draft.disk {
        case .keep: current = .keep
        case let .new(bytes, fmt):
            current = .new
            size.text = ByteSize.format(bytes).replacingOccurrences(of: " ", with: "").replacingOccurrences(of: "iB", with: "")
            format.selected = model.diskFormats.firstIndex(of: fmt) ?? 0
        case let .existing(imagePath, _):
            current = .existing
            path.text = imagePath
        case .none: current = .none
        }
        if size.text.isEmpty { size.text = "\(draft.osType.defaultDiskBytes >> 30)G" }
        kind.selected = kinds.firstIndex(of: current) ?? 0
        interface.selected = VMConfig.DiskInterface.allCases.firstIndex(of: draft.diskInterface) ?? 0
    }

    func update() {
        let current = kinds[kind.selected]
        size.isHidden = current != .new
        format.isHidden = current != .new
        formatNote.isHidden = current != .new
        path.isHidden = current != .existing
        interface.isHidden = current == .none
    }

    func commit() -> String? {
        model.draft.diskInterface = VMConfig.DiskInterface.allCases[interface.selected]
        switch kinds[kind.selected] {
        case .keep: model.draft.disk = .keep
        case .none: model.draft.disk = .none
        case .new:
            guard let bytes = ByteSize.parse(size.text), (VMConfig.minDiskBytes...VMConfig.maxDiskBytes).contains(bytes) else {
                return "Size \"\(size.text)\" is not a disk size; allowed 1M…16T, e.g. 8G or 512M."
            }
            model.draft.disk = .new(sizeBytes: bytes, format: model.diskFormats[format.selected])
        case .existing:
            let text = path.text.trimmingCharacters(in: .whitespaces)
            guard !text.isEmpty else { return "Give the path of an existing disk image." }
            let absolute = PathArgument.absolute(text)
            do { model.draft.disk = .existing(path: absolute, format: try BootMedia.checkDiskImage(absolute, field: "Image")) } catch {
                return "\(error)"
            }
        }
        return nil
    }
}
