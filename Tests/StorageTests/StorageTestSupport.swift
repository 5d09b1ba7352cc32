import Foundation
@testable import Engine

/// A scratch directory removed when the value goes away.
final class ScratchDirectory {
    let path: String

    init() {
        path = NSTemporaryDirectory() + "vmtui-storage-" + UUID().uuidString
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func file(_ name: String) -> String { path + "/" + name }
}


enum Tools {
    static let qemuImg = "/usr/bin/qemu-img"
    static let qemuIO = "/usr/bin/qemu-io"
    static var haveQemu: Bool {
        FileManager.default.isExecutableFile(atPath: qemuImg) && FileManager.default.isExecutableFile(atPath: qemuIO)
    }

    /// The `vmtui` binary built next to the test bundle (`swift build` / `swift test` build it).
    static var vmtui: String? {
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = url.appendingPathComponent("vmtui").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            url.deleteLastPathComponent()
        }
        return nil
    }
}

extension BlockDevice {
    func readAll() throws(StorageError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: Int(size))
        try bytes.withUnsafeMutableBufferPointer { (raw) throws(StorageError) in
            try read(at: 0, into: UnsafeMutableRawBufferPointer(raw))
        }
        return bytes
    }

    func read(at offset: UInt64, count: Int) throws(StorageError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        try bytes.withUnsafeMutableBufferPointer { (raw) throws(StorageError) in
            try read(at: offset, into: UnsafeMutableRawBufferPointer(raw))
        }
        return bytes
    }

    func write(at offset: UInt64, bytes: [UInt8]) throws(StorageError) {
        try bytes.withUnsafeBufferPointer { (raw) throws(StorageError) in
            try write(at: offset, from: UnsafeRawBufferPointer(raw))
        }
    }
}

/// Index of the first 512-byte sector where two disks differ, or nil.
func firstDifferentSector(_ a: [UInt8], _ b: [UInt8]) -> Int? {
    guard a.count == b.count else { return 0 }
    return a.withUnsafeBytes { x in
        b.withUnsafeBytes { y in
            guard memcmp(x.baseAddress!, y.baseAddress!, x.count) != 0 else { return nil }
            return stride(from: 0, to: x.count, by: 512).first { offset in
                memcmp(x.baseAddress! + offset, y.baseAddress! + offset, min(512, x.count - offset)) != 0
            }.map { $0 / 512 }
        }
    }
}
