import Foundation

/// Checks boot media and disk images before they go into a config, so a typo or a wrong file
/// is caught early.
public enum BootMedia {
    /// The same checks the machine makes before boot (ISO9660.problem): "CD001" at byte 0x8001
    /// and a file that holds the whole volume.
    public static func checkISO(_ path: String, field: String = "iso") throws {
        _ = try readable(path, field: field, needBytes: 0)
        let problem: String?
        do { problem = try ISO9660.problem(with: DiskImage.open(path: path, readOnly: true)) } catch { problem = error.problem }
        if let problem {
            throw VMConfigError.invalid(file: nil, field: field, value: path, problem: problem, allowed: "a bootable .iso file")
        }
    }

    /// A floppy image must open as `vmtui disk info` opens it and have the size of a floppy
    /// format (FloppyGeometry), as the machine requires when it attaches the drive.
    public static func checkFloppy(_ path: String, field: String = "floppy") throws {
        _ = try readable(path, field: field, needBytes: 0)
        let size: UInt64
        do { size = try DiskImage.open(path: path, readOnly: true).size } catch {
            throw VMConfigError.invalid(file: nil, field: field, value: path, problem: error.problem, allowed: "a floppy image such as a 1.44 MB .img")
        }
        guard FloppyGeometry.forImage(size: size) != nil else {
            throw VMConfigError.invalid(file: nil, field: field, value: path, problem: "is \(size) bytes, not the size of a floppy disk",
                                        allowed: "a floppy image of \(FloppyGeometry.allowedSizes) bytes (1474560 for 1.44 MB)")
        }
    }

    /// An existing disk image, opened as `vmtui disk info` opens it: the format its contents
    /// show (never the name), refused when unreadable, corrupt, smaller than a sector, or named
    /// as a format (.qcow2, .vdi) its contents are not.
    public static func checkDiskImage(_ path: String, field: String = "disk") throws -> VMConfig.DiskFormat {
        let allowed = "an existing raw, qcow2 or VDI image (check it with: vmtui disk info \(path))"
        _ = try readable(path, field: field, needBytes: 0)
        let image: any DiskImageFile
        do { image = try DiskImage.open(path: path, readOnly: true) } catch {
            throw VMConfigError.invalid(file: nil, field: field, value: path, problem: error.problem, allowed: allowed)
        }
        guard image.size >= 512 else {
            throw VMConfigError.invalid(file: nil, field: field, value: path, problem: "holds \(image.size) bytes, less than one 512-byte sector",
                                        allowed: allowed)
        }
        let named = VMConfig.DiskFormat(rawValue: (path as NSString).pathExtension.lowercased())
        if let named, named != .raw, named != image.format {
            throw VMConfigError.invalid(file: nil, field: field, value: path,
                                        problem: "is named .\(named.rawValue) but holds a \(image.format.rawValue) image (no \(named.rawValue) header)",
                                        allowed: allowed)
        }
        return image.format
    }

    private static func readable(_ path: String, field: String, needBytes: Int) throws -> Data {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw VMConfigError.invalid(file: nil, field: field, value: path, problem: "does not exist", allowed: "an existing file")
        }
        guard !isDirectory.boolValue else {
            throw VMConfigError.invalid(file: nil, field: field, value: path, problem: "is a directory", allowed: "a file")
        }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw VMConfigError.invalid(file: nil, field: field, value: path, problem: "is not readable",
                                        allowed: "a file this user can read")
        }
        defer { try? handle.close() }
        return (try? handle.read(upToCount: needBytes)) ?? Data()
    }
}
