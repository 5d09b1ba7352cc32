import ArgumentParser
import Engine
import Foundation

/// `vmtui disk`: disk images outside a VM (create, inspect, convert, resize, benchmark).
/// Exit codes: 0 ok, 1 the operation failed, 2 the command line is wrong.
struct DiskCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "disk",
        abstract: "Create, inspect, convert and resize disk images (qcow2, VDI, raw).",
        subcommands: [Info.self, Create.self, Convert.self, Resize.self, Bench.self, Exercise.self]
    )

    /// Prints a usage problem and exits with 2.
    static func usageError(_ message: String) -> ExitCode {
        FileHandle.standardError.write(Data("vmtui disk: \(message)\n".utf8))
        return ExitCode(2)
    }

    /// Prints why an operation failed and exits with 1.
    static func failure(_ error: StorageError) -> ExitCode {
        FileHandle.standardError.write(Data("vmtui disk: \(error.description)\n".utf8))
        return ExitCode.failure
    }

    /// Runs an image operation, turning its error into a message and exit code 1.
    static func attempt<T>(_ body: () throws(StorageError) -> T) throws(ExitCode) -> T {
        do {
            return try body()
        } catch {
            throw failure(error)
        }
    }

    static func parseFormat(_ text: String) throws(ExitCode) -> VMConfig.DiskFormat {
        guard let format = VMConfig.DiskFormat(rawValue: text.lowercased()) else {
            throw usageError("unknown format '\(text)' (use qcow2, vdi or raw)")
        }
        return format
    }

    static func parseSize(_ text: String, what: String) throws(ExitCode) -> UInt64 {
        guard let size = DiskImage.parseSize(text) else {
            throw usageError("\(what) '\(text)' is not a size (examples: 20G, 512M, 1T, 1048576)")
        }
        guard size % 512 == 0, size > 0 else {
            throw usageError("\(what) \(size) must be a positive multiple of 512 bytes")
        }
        return size
    }

    static func refuseExisting(_ path: String) throws(ExitCode) {
        if FileManager.default.fileExists(atPath: path) {
            throw usageError("\(path) already exists; choose another name or delete it first")
        }
    }

    /// 20 GiB, 1.5 MiB, 512 bytes.
    static func humanSize(_ bytes: UInt64) -> String {
        let units = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        if unit == 0 { return "\(bytes) bytes" }
        let text = value == value.rounded() ? String(Int(value)) : String(format: "%.1f", value)
        return "\(text) \(units[unit])"
    }
}
