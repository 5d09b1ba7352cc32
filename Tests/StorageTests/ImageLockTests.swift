import Foundation
import Testing
import TestSupport
@testable import Engine

/// vmtui and QEMU's tools see each other's image locks (QEMU's OFD byte locks at 100 + perm
/// and 200 + unshared perm), in both directions.
@Suite(.enabled(if: Tools.haveQemu, "needs qemu-img and qemu-io (qemu-utils)"))
struct ImageLockTests {
    static let qemuSystem = "/usr/bin/qemu-system-i386"

    @Test(arguments: [VMConfig.DiskFormat.raw, .qcow2, .vdi])
    func qemuImgSeesAnImageVmtuiHasOpen(format: VMConfig.DiskFormat) throws {
        let dir = ScratchDirectory()
        let path = dir.file("disk.\(format.rawValue)")
        do {
            let image = try DiskImage.create(path: path, format: format, size: 1 << 20)
            // QEMU's read-only users of a raw image share writing (qemu-img info, qemu-io -r),
            // so a writing qemu-io stands in for them there.
            let probe = format == .raw ? try runHostProgram(Tools.qemuIO, ["-f", "raw", "-c", "read 0 512", path])
                                       : try runHostProgram(Tools.qemuImg, ["info", path])
            #expect(probe.status != 0)
            let message = format == .raw ? "Failed to get \"write\" lock" : "Failed to get shared \"write\" lock"
            #expect(probe.output.contains(message), "qemu: \(probe.output)")
            #expect(try runHostProgram(Tools.qemuImg, ["info", "-U", path]).status == 0) // -U: share anyway
            try image.flush()
        }
        #expect(try runHostProgram(Tools.qemuImg, ["info", path]).status == 0) // closed: the locks are gone

        // Read-only: readers share it, a writer does not get in.
        let reader = try DiskImage.open(path: path, readOnly: true)
        #expect(try runHostProgram(Tools.qemuImg, ["info", path]).status == 0)
        let write = try runHostProgram(Tools.qemuIO, ["-f", format.rawValue, "-c", "write 0 512", path])
        #expect(write.status != 0 && write.output.contains("lock"), "qemu-io: \(write.output)")
        _ = reader
    }

    /// A QEMU process holding the image open for writing, killed when the test ends.
    static func holder(_ program: String, _ arguments: [String]) throws -> HostProcess {
        try HostProcess(program, arguments, stdin: .pipe, stdout: .null, stderr: .null)
    }

    /// Waits until the holder has taken QEMU's write-permission lock (byte 101) on the image.
    /// Read from /proc/locks rather than probed with qemu-img: a probe holds a lock for a moment,
    /// and a holder opening the image just then fails and never locks it.
    static func waitUntilLocked(_ path: String) -> Bool {
        var info = stat()
        guard stat(path, &info) == 0 else { return false }
        for _ in 0..<200 {
            let locks = (try? String(contentsOfFile: "/proc/locks", encoding: .utf8)) ?? ""
            // "1: OFDLCK ADVISORY  READ -1 fe:00:16223415 100 101": the device:inode, then the byte range.
            let coversWrite = locks.split(separator: "\n").contains { line in
                let fields = line.split(separator: " ")
                guard fields.count >= 3, line.contains("OFDLCK"), fields[fields.count - 3].hasSuffix(":\(info.st_ino)"),
                      let first = Int(fields[fields.count - 2]), let last = Int(fields[fields.count - 1]) else { return false }
                return first <= 101 && 101 <= last
            }
            if coversWrite { return true }
            usleep(25_000)
        }
        return false
    }

    static var holders: [String] {
        ["qemu-io"] + (FileManager.default.isExecutableFile(atPath: qemuSystem) ? ["qemu-system-i386"] : [])
    }

    @Test(arguments: holders)
    func vmtuiRefusesAnImageQemuHolds(holder: String) throws {
        let dir = ScratchDirectory()
        let path = dir.file("disk.qcow2")
        try #require(try runHostProgram(Tools.qemuImg, ["create", "-q", "-f", "qcow2", path, "1M"]).status == 0)
        let process = holder == "qemu-io"
            ? try Self.holder(Tools.qemuIO, ["-f", "qcow2", path]) // interactive: holds the image while stdin is open
            : try Self.holder(Self.qemuSystem, ["-S", "-nodefaults", "-display", "none", "-drive", "file=\(path),format=qcow2,if=ide"])
        try #require(Self.waitUntilLocked(path), "\(holder) did not lock the image")
        #expect(throws: StorageError.self) { _ = try DiskImage.open(path: path, readOnly: false) }
        do {
            _ = try DiskImage.open(path: path, readOnly: true)
            Issue.record("a read-only open must not share an image QEMU writes")
        } catch {
            #expect(error.problem.contains("in use by another process"))
            #expect(error.problem.contains("\"write\" lock"), "\(error)")
        }
        withExtendedLifetime(process) {}
    }
}
