import Foundation

/// Makes a new, empty disk image (`ImageDiskCreator` in Storage; tests plug in their own).
public protocol DiskImageCreator: Sendable {
    var supportedFormats: [VMConfig.DiskFormat] { get }
    func create(at url: URL, format: VMConfig.DiskFormat, sizeBytes: UInt64) throws
}

extension DiskImageCreator {
    /// The format new disks get unless the user picks one: qcow2 where it can be made.
    public var preferredFormat: VMConfig.DiskFormat {
        supportedFormats.contains(.qcow2) ? .qcow2 : supportedFormats.first ?? .raw
    }
}
