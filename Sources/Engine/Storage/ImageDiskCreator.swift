import Foundation

/// Makes the disks of new VMs in any format (qcow2, VDI, raw) through the storage engine.
/// Unlike `DiskImage.create`, it never replaces a file that is already there.
public struct ImageDiskCreator: DiskImageCreator {
    public init() {}

    public var supportedFormats: [VMConfig.DiskFormat] { VMConfig.DiskFormat.allCases }

    public func create(at url: URL, format: VMConfig.DiskFormat, sizeBytes: UInt64) throws {
        guard !FileManager.default.fileExists(atPath: url.path) else {
            throw VMConfigError.io(path: url.path, reason: "a file is already there; remove it or pick another disk name")
        }
        // Images hold whole sectors: round a size like 1000 bytes up to 1024.
        let size = (sizeBytes + 511) / 512 * 512
        do {
            try DiskImage.create(path: url.path, format: format, size: size).flush()
        } catch {
            try? FileManager.default.removeItem(at: url)
            throw VMConfigError.io(path: url.path, reason: error.problem)
        }
    }
}
