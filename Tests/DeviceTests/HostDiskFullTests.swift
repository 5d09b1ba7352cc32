import Foundation
import Testing
import TestSupport
@testable import Engine

/// A guest write that finds the host file system full: the controller keeps the request (the
/// guest sees nothing complete), tells its owner "paused: host disk full (PATH)", and `retry()`
/// finishes it once space is freed, leaving an image qemu-img check finds clean. The file
/// system is a 4 MiB tmpfs the test mounts (root only) and unmounts.
@Suite(.enabled(if: getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/qemu-img"),
                "needs root (to mount a tmpfs) and qemu-img (qemu-utils)"),
       .serialized)
struct HostDiskFullTests {
    /// A mounted, size-limited tmpfs, unmounted and removed on deinit.
    final class SmallFileSystem {
        let path: String
        init() throws {
            path = NSTemporaryDirectory() + "vmtui-full-" + UUID().uuidString
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            try #require(runHostProgram("/bin/mount", ["-t", "tmpfs", "-o", "size=4m", "tmpfs", path]).status == 0)
        }
        deinit {
            _ = try? runHostProgram("/bin/umount", [path])
            try? FileManager.default.removeItem(atPath: path)
        }

        /// Fills the file system to the last byte with a file that `free()` removes. Close-on-exec:
        /// a host program another test spawns meanwhile (QEMU, qemu-img) would otherwise inherit
        /// the descriptor and keep the unlinked filler's space until it exits.
        func fill() {
            let fd = open(path + "/filler", O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
            let chunk = [UInt8](repeating: 0xEE, count: 4096)
            while chunk.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) > 0 {}
            close(fd)
        }
        func free() { unlink(path + "/filler") }
    }

    @Test(arguments: [VMConfig.DiskFormat.qcow2, .vdi, .raw])
    func ahciWritePausesAndRetries(format: VMConfig.DiskFormat) throws {
        let fs = try SmallFileSystem()
        let path = fs.path + "/disk." + format.rawValue
        let data = AHCIRig.pattern(256 * 1024, seed: 7)
        do {
            let image = try DiskImage.create(path: path, format: format, size: 16 << 20)
            let rig = try AHCIRig(disk: image)
            rig.startPort()
            rig.put(data, at: 0x100000)
            fs.fill()
            rig.issue(AHCIRig.fis(0x35, lba: 4096, count: 512), prdt: [(0x100000, data.count)], write: true)
            #expect(rig.stops == [.hostDiskFull(path: path)])
            #expect(rig.stops.first?.message == "paused: host disk full (\(path))")
            #expect(rig.port(0x38) == 1) // still issued: nothing completed to the guest
            #expect(rig.port(0x10) == 0) // no FIS, no error
            rig.ahci.retry()
            #expect(rig.port(0x38) == 1 && rig.stops.count == 2) // still full: still waiting

            fs.free()
            rig.ahci.retry()
            #expect(rig.port(0x38) == 0 && rig.port(0x10) & 0x4000_0000 == 0)
            #expect(rig.port(0x10) & 1 == 1)
            rig.issue(slot: 1, AHCIRig.fis(0x25, lba: 4096, count: 512), prdt: [(0x200000, data.count)])
            #expect(byteMismatch(rig.bytes(at: 0x200000, data.count), data) == nil)
            try image.flush()
        }
        if format != .raw {
            let check = try runHostProgram("/usr/bin/qemu-img", ["check", path])
            #expect(check.status == 0, "qemu-img check: \(check.output)")
        }
    }

    @Test func virtioWriteStaysAvailableUntilRetry() throws {
        let fs = try SmallFileSystem()
        let path = fs.path + "/disk.qcow2"
        let data = (0..<(128 * 1024)).map { UInt8(truncatingIfNeeded: $0 &* 5) }
        do {
            let image = try DiskImage.create(path: path, format: .qcow2, size: 16 << 20)
            let rig = try VirtioBlockRig(disk: image)
            rig.initialize()
            fs.fill()
            #expect(rig.request(type: 1, sector: 2048, write: data) == 0xFF) // status untouched
            #expect(rig.stops == [.hostDiskFull(path: path)])
            #expect(rig.usedIndex == 0)
            #expect(!rig.irqs.levels[VirtioBlockTests.line])
            fs.free()
            rig.block.retry()
            #expect(rig.usedIndex == 1)
            #expect(rig.bytes(at: 0x31000, 1) == [0])
            #expect(rig.request(type: 0, sector: 2048, readInto: (0x200000, data.count)) == 0)
            #expect(byteMismatch(rig.bytes(at: 0x200000, data.count), data) == nil)
            try image.flush()
        }
        let check = try runHostProgram("/usr/bin/qemu-img", ["check", path])
        #expect(check.status == 0, "qemu-img check: \(check.output)")
    }
}
