import Foundation
import Testing
import Engine

/// Settings that cannot work are refused when they are made (create, set), with the reason and
/// the fix, instead of failing when the VM starts.
@Suite(.enabled(if: binaryBuilt, "needs .build/debug/vmtui (swift build)"))
struct SettingsValidationTests {
    let vmtui = VMTUIProcess()

    @Test func memoryAboveTheEnginesLimitIsRefusedByCreateAndSet() throws {
        let limit = MachineError.memoryRange.upperBound
        let create = try vmtui.run("create", "big", "--memory", "\(limit + 1)")
        #expect(create.status == 2 && create.stderr.contains("allowed 4…\(limit) MiB"), "\(create.stderr)")
        #expect(try vmtui.run("create", "big", "--memory", "\(min(limit, HostLimits.current().memoryMiB))").status == 0)
        let set = try vmtui.run("set", "big", "memory=4G")
        #expect(set.status == 2, "\(set.stdout)")
        #expect(set.stderr.contains("memoryMiB: 4096 is out of range"), "\(set.stderr)")
    }
}

extension SettingsValidationTests {
    /// A scratch directory of bad files: a directory, a random file with the qcow2 magic, a
    /// 6-byte text file named .vdi, a 5 MB "ISO" and a 1.44 MB floppy image.
    struct BadFiles {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vmtui-bad-\(UUID().uuidString)")
        var directory: String { dir.appendingPathComponent("folder.img").path }
        var fakeQCOW2: String { dir.appendingPathComponent("random.qcow2").path }
        var textVDI: String { dir.appendingPathComponent("text.vdi").path }
        var bigFile: String { dir.appendingPathComponent("big.iso").path }
        var floppy: String { dir.appendingPathComponent("floppy.img").path }

        init() throws {
            try FileManager.default.createDirectory(atPath: dir.appendingPathComponent("folder.img").path, withIntermediateDirectories: true)
            var random = SystemRandomNumberGenerator()
            try Data([0x51, 0x46, 0x49, 0xFB] + (0..<4092).map { _ in UInt8.random(in: 0...255, using: &random) })
                .write(to: URL(fileURLWithPath: fakeQCOW2))
            try Data("hello\n".utf8).write(to: URL(fileURLWithPath: textVDI))
            try Data(count: 5 << 20).write(to: URL(fileURLWithPath: bigFile))
            try Data(count: 1_474_560).write(to: URL(fileURLWithPath: floppy))
        }
    }

    @Test func existingDiskImagesAreCheckedAsDiskInfoChecksThem() throws {
        let files = try BadFiles()
        defer { try? FileManager.default.removeItem(at: files.dir) }
        for (path, reason) in [(files.directory, "is a directory"), (files.fakeQCOW2, "qcow2"),
                               (files.textVDI, "less than one 512-byte sector")] {
            let create = try vmtui.run("create", "d", "--disk", path, "--network", "none")
            #expect(create.status == 2, "\(path) accepted: \(create.stdout)")
            #expect(create.stderr.contains(path) && create.stderr.contains(reason), "\(reason): \(create.stderr)")
        }
        #expect(try vmtui.run("list").stdout.contains("no VMs yet"))
        let good = try vmtui.run("create", "d", "--disk", files.floppy, "--network", "none")
        #expect(good.status == 0, "\(good.stderr)")
        #expect(try vmtui.run("show", "d").stdout.contains("raw"))
    }

    @Test func floppyBIOSAndDiskInterfaceAreCheckedWhenSet() throws {
        let files = try BadFiles()
        defer { try? FileManager.default.removeItem(at: files.dir) }
        let bigFloppy = try vmtui.run("create", "f", "--floppy", files.bigFile)
        #expect(bigFloppy.status == 2 && bigFloppy.stderr.contains("5242880 bytes, not the size of a floppy disk"), "\(bigFloppy.stderr)")
        #expect(try vmtui.run("create", "f", "--floppy", files.floppy, "--network", "none").status == 0)
        let passwd = try vmtui.run("set", "f", "bios=/etc/passwd")
        #expect(passwd.status == 2 && passwd.stderr.contains("/etc/passwd is"), "\(passwd.stderr)")
        let notBIOS = try vmtui.run("set", "f", "bios=\(files.bigFile)")
        #expect(notBIOS.status == 2 && notBIOS.stderr.contains("reset vector"), "\(notBIOS.stderr)")
        let folder = try vmtui.run("set", "f", "bios=\(files.dir.path)")
        #expect(folder.status == 2 && folder.stderr.contains("directory"), "\(folder.stderr)")
        let virtio = try vmtui.run("set", "f", "disk-interface=virtio")
        #expect(virtio.status == 2 && virtio.stderr.contains("has no disk"), "\(virtio.stderr)")
        let floppy = try vmtui.run("set", "f", "floppy=\(files.textVDI)")
        #expect(floppy.status == 2 && floppy.stderr.contains("not the size of a floppy disk"), "\(floppy.stderr)")
        #expect(try vmtui.run("set", "f", "bios=default").status == 0)
    }
}

extension SettingsValidationTests {
    /// What a VM asks for is what it runs as: nothing is annotated as not available yet.
    @Test func nothingIsAnnotatedAsNotAvailableYet() throws {
        let cpus = min(2, HostLimits.current().cpuCount)
        let created = try vmtui.run("create", "v", "--mode", "virtualize", "--cpus", "\(cpus)", "--network", "nat",
                                    "--disk", "8M", "--disk-interface", "virtio")
        #expect(created.status == 0, "\(created.stderr)")
        let shown = try vmtui.run("show", "v").stdout
        // The KVM backend is wired in: Virtualize is no longer annotated.
        #expect(shown.contains("Virtualize (KVM)") && !shown.contains("runs as Emulate"), "\(shown)")
        // The SATA and virtio-blk controllers are in the PC: the interface is shown as it is.
        #expect(shown.contains("virtio") && !shown.contains("runs as IDE"), "\(shown)")
        // What a full host disk does, per disk: pause unless set otherwise.
        #expect(shown.contains("virtio  host full: pause"), "\(shown)")
        #expect(try vmtui.run("set", "v", "disk-full=0:report").status == 0)
        #expect(try vmtui.run("show", "v").stdout.contains("virtio  host full: report"))
        // The E1000 is in the PC: NAT is no longer annotated.
        #expect(shown.contains("NAT") && !shown.contains("runs with no network card"), "\(shown)")
        // KVM runs a thread per vCPU: the CPU count is shown as it is.
        #expect(!shown.contains("not available yet"), "\(shown)")
        let list = try vmtui.run("list").stdout
        #expect(list.contains("KVM") && !list.contains("EMU"), "\(list)")
    }
}
