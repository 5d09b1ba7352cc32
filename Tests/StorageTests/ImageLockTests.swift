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
    final class Holder {
        let process = Process()
        let input = Pipe()

        init(_ program: String, _ arguments: [String]) throws {
            process.executableURL = URL(fileURLWithPath: program)
            process.arguments = arguments
            process.standardInput = input
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
        }

        // SIGKILL: a process spawned from a test thread may inherit a mask that blocks SIGTERM.
        deinit {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    /// Waits until qemu-img stops getting the image (the holder has locked it).
    static func waitUntilLocked(_ path: String) throws -> Bool {
        for _ in 0..<100 {
            if try runHostProgram(Tools.qemuImg, ["info", "-f", "qcow2", path]).status != 0 { return true }
            usleep(50_000)
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
            ? try Holder(Tools.qemuIO, ["-f", "qcow2", path]) // interactive: holds the image while stdin is open
            : try Holder(Self.qemuSystem, ["-S", "-nodefaults", "-display", "none", "-drive", "file=\(path),format=qcow2,if=ide"])
        try #require(try Self.waitUntilLocked(path), "\(holder) did not lock the image")
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
