import Foundation

/// Checks boot media before they go into a config, so a typo or a wrong file is caught early.
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

    /// A floppy image only needs to be a readable, non-empty regular file.
    public static func checkFloppy(_ path: String, field: String = "floppy") throws {
        let data = try readable(path, field: field, needBytes: 512)
        guard data.count == 512 else {
            throw VMConfigError.invalid(file: nil, field: field, value: path, problem: "is shorter than one sector",
                                        allowed: "a floppy image such as a 1.44 MB .img")
        }
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
