import Engine

/// The disk image creator the CLI and the wizard use. Raw only for now; the storage engine's
/// qcow2/VDI creator replaces it here.
enum DiskImages {
    static let creator: any DiskImageCreator = ImageDiskCreator()
}
