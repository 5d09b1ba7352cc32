import Foundation

/// Creates raw images as sparse files: a 20 GiB disk takes no space until the guest writes.
public struct RawDiskImageCreator: DiskImageCreator {
    public init() {}

    public var supportedFormats: [VMConfig.DiskFormat] { [.raw] }

    public func create(at url: URL, format: VMConfig.DiskFormat, sizeBytes: UInt64) throws {
        guard format == .raw else {
            throw VMConfigError.invalid(file: nil, field: "disk format", value: format.rawValue,
                                        problem: "cannot be created yet (the qcow2/VDI writer is not built in)",
                                        allowed: "raw")
        }
        let fd = open(url.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw VMConfigError.io(path: url.path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        guard ftruncate(fd, off_t(sizeBytes)) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(url.path)
            throw VMConfigError.io(path: url.path, reason: reason)
        }
    }
}
