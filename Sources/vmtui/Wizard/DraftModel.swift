import Engine

/// What the wizard's steps share: the draft being filled and facts about the host.
final class DraftModel {
    var draft: VMDraft
    let library: VMLibrary
    let kvm: KVMAvailability
    let bridges: [String]
    let diskFormats: [VMConfig.DiskFormat]
    /// The OS whose defaults were last applied, so going back and changing it re-applies them.
    var defaultsAppliedFor: VMConfig.OSType?

    /// Editing a VM that is running: saved changes apply at its next start.
    let isRunning: Bool

    init(draft: VMDraft, library: VMLibrary, isRunning: Bool = false) {
        self.draft = draft
        self.library = library
        self.isRunning = isRunning
        kvm = KVMAvailability.probe()
        bridges = HostBridges.list()
        diskFormats = DiskImages.creator.supportedFormats
        defaultsAppliedFor = draft.original == nil ? nil : draft.osType
    }

    var isEditing: Bool { draft.original != nil }
    var limits: HostLimits { library.limits }
}
