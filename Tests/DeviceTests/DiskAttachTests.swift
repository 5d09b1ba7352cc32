import Foundation
import Testing
@testable import Engine

/// Counts flushes, so a test can see the guest's FLUSH CACHE reach the image.
final class FlushCountingDisk: BlockDevice {
    var flushes = 0
    let size: UInt64 = 64 * 512
    var isReadOnly: Bool { false }
    func read(at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(StorageError) {
        buffer.initializeMemory(as: UInt8.self, repeating: 0)
    }
    func write(at offset: UInt64, from buffer: UnsafeRawBufferPointer) throws(StorageError) {}
    func flush() throws(StorageError) { flushes += 1 }
}

/// Disks of every image format through the storage engine (DiskImage), on their controllers.
@Suite struct DiskAttachTests {
    static func temporaryDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "vmtui-disks-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func machine(disks: [VMConfig.Disk]) throws -> Machine {
        let config = VMConfig(name: "hd", memoryMiB: 16, disks: disks, network: .init(mode: .none))
        return try Machine(config: config, firmware: BootISOCheckTests.firmware) { Interpreter(environment: $0) }
    }

    @Test func flushCacheReachesTheImage() throws {
        let disk = FlushCountingDisk()
        let drive = ATADisk(disk: disk)
        let irqs = IRQRecorder() // IRQ lines hold their controller unowned
        let channel = IDEChannel(base: 0x1F0, controlPort: 0x3F6, irq: irqs.line(14), memory: try MemoryMap(ramSize: 1 << 20))
        channel.attach(drive, slot: 0)
        channel.reset()
        for command: UInt32 in [0xE7, 0xEA] { channel.portWrite(0x1F7, width: 1, value: command) }
        #expect(disk.flushes == 2)
        #expect(channel.portRead(0x1F7, width: 1) & UInt32(IDEChannel.errorBit) == 0 && irqs.edges[14] == 2)
    }

    /// A qcow2 and a VDI disk on the primary channel: written and read back through the ATA ports.
    @Test func qcow2AndVDIDisksAttachAndTransferSectors() throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = try DiskImage.create(path: dir + "/a.qcow2", format: .qcow2, size: 8 << 20)
        _ = try DiskImage.create(path: dir + "/b.vdi", format: .vdi, size: 8 << 20)
        let machine = try Self.machine(disks: [
            VMConfig.Disk(path: dir + "/a.qcow2", format: .qcow2, sizeBytes: nil, interface: .ide),
            VMConfig.Disk(path: dir + "/b.vdi", format: .vdi, sizeBytes: nil, interface: .ide),
        ])
        let formats = machine.ide.primary.drives.map { drive -> VMConfig.DiskFormat? in
            ((drive as? ATADisk)?.disk as? any DiskImageFile)?.format
        }
        #expect(formats == [.qcow2, .vdi])
        let ports = machine.ports
        for slot in [0, 1] {
            let pattern = (0..<256).map { UInt32($0 &* 7 &+ slot) & 0xFFFF }
            ports.write(0x1F6, width: 1, value: 0xE0 | UInt32(slot) << 4) // LBA, drive
            ports.write(0x1F2, width: 1, value: 1)
            ports.write(0x1F3, width: 1, value: 9)
            ports.write(0x1F4, width: 1, value: 0)
            ports.write(0x1F5, width: 1, value: 0)
            ports.write(0x1F7, width: 1, value: 0x30) // WRITE SECTORS
            for word in pattern { ports.write(0x1F0, width: 2, value: word) }
            ports.write(0x1F7, width: 1, value: 0xE7) // FLUSH CACHE
            #expect(ports.read(0x1F7, width: 1) & 0x01 == 0)
            ports.write(0x1F2, width: 1, value: 1)
            ports.write(0x1F3, width: 1, value: 9)
            ports.write(0x1F7, width: 1, value: 0x20) // READ SECTORS
            let back = (0..<256).map { _ in ports.read(0x1F0, width: 2) }
            #expect(back == pattern)
        }
    }

    /// Images are locked while a machine has them open; a machine that is gone must have let go
    /// (no reference cycle through the port map keeps its devices alive).
    @Test func aReleasedMachineUnlocksItsImages() throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = try DiskImage.create(path: dir + "/disk.qcow2", format: .qcow2, size: 1 << 20)
        let disks = [VMConfig.Disk(path: dir + "/disk.qcow2", format: .qcow2, sizeBytes: nil, interface: .ide)]
        weak var released: Machine?
        do {
            let machine = try Self.machine(disks: disks)
            released = machine
            #expect(throws: StorageError.self) { _ = try DiskImage.open(path: dir + "/disk.qcow2", readOnly: false) }
        }
        #expect(released == nil)
        #expect(throws: Never.self) { _ = try DiskImage.open(path: dir + "/disk.qcow2", readOnly: false) }
        #expect(throws: Never.self) { _ = try Self.machine(disks: disks) }
    }

    @Test func aFormatThatDisagreesWithTheConfigIsRefused() throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = try DiskImage.create(path: dir + "/disk.img", format: .qcow2, size: 1 << 20)
        #expect(throws: MachineError.unsupportedDisk(path: dir + "/disk.img", reason: "config.json says raw but the file is a qcow2 image; fix the disk's format in config.json")) {
            _ = try Self.machine(disks: [.init(path: dir + "/disk.img", format: .raw, sizeBytes: nil, interface: .ide)])
        }
    }

    @Test func aMissingDiskIsAStorageError() {
        #expect(throws: MachineError.storage("/nonexistent/vmtui/disk.qcow2: cannot open: No such file or directory")) {
            _ = try Self.machine(disks: [.init(path: "/nonexistent/vmtui/disk.qcow2", format: .qcow2, sizeBytes: nil, interface: .ide)])
        }
    }

    /// Each disk on the controller its interface names: SATA on the AHCI at 00:04.0 (ports in
    /// config order), virtio one function each from 00:05.0; the boot order lists them in config
    /// order in the forms SeaBIOS's bootprio_find_ata_device/bootprio_find_pci_device match.
    @Test func eachInterfaceGetsItsController() throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let disks: [VMConfig.Disk] = [("v0", .virtio), ("s0", .sata), ("v1", .virtio), ("s1", .sata)].map { name, interface in
            _ = try? DiskImage.create(path: "\(dir)/\(name).qcow2", format: .qcow2, size: 1 << 20)
            return VMConfig.Disk(path: "\(dir)/\(name).qcow2", format: .qcow2, sizeBytes: nil, interface: interface)
        }
        let machine = try Self.machine(disks: disks)
        let ahci = try #require(machine.ahci)
        #expect(machine.hostBridge.bus.function(devfn: 4 << 3) === ahci)
        #expect(ahci.ports.prefix(2).allSatisfy { $0.device != nil } && ahci.ports[2].device == nil)
        #expect(machine.virtioDisks.count == 2)
        for (index, block) in machine.virtioDisks.enumerated() {
            #expect(machine.hostBridge.bus.function(devfn: (5 + index) << 3) === block.transport)
        }
        #expect(machine.ide.primary.drives.allSatisfy { $0 == nil })
        #expect(machine.warnings.isEmpty)
        #expect(machine.diskBootPaths == ["/pci@i0cf8/scsi@5/disk@0,0", "/pci@i0cf8/sata@4/drive@0/disk@0",
                                          "/pci@i0cf8/scsi@6/disk@0,0", "/pci@i0cf8/sata@4/drive@1/disk@0"])
    }

    /// Booting from the floppy only, the disks still follow HALT: SeaBIOS (strict boot order)
    /// skips setting up a virtio disk the list does not name, and INT 13h would not see it.
    @Test func disksNotBootedFromFollowHalt() throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = try DiskImage.create(path: dir + "/v.qcow2", format: .qcow2, size: 1 << 20)
        var config = VMConfig(name: "hd", memoryMiB: 16, disks: [.init(path: dir + "/v.qcow2", format: .qcow2, sizeBytes: nil, interface: .virtio)],
                              network: .init(mode: .none))
        config.bootOrder = [.floppy]
        let machine = try Machine(config: config, firmware: BootISOCheckTests.firmware) { Interpreter(environment: $0) }
        let file = try #require(machine.fwCfg.file("bootorder"))
        #expect(String(decoding: file.prefix { $0 != 0 }, as: UTF8.self)
                == "/pci@i0cf8/isa@1/fdc@03f0/floppy@0\nHALT\n/pci@i0cf8/scsi@5/disk@0,0")
    }

    /// A third IDE disk has no place: an error naming the disk and the fix, not a silent IDE fallback.
    @Test func aFullControllerIsAnError() throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let disks = try (0..<3).map { index in
            _ = try DiskImage.create(path: "\(dir)/\(index).qcow2", format: .qcow2, size: 1 << 20)
            return VMConfig.Disk(path: "\(dir)/\(index).qcow2", format: .qcow2, sizeBytes: nil, interface: .ide)
        }
        #expect(throws: MachineError.controllerFull(path: "\(dir)/2.qcow2", interface: "ide", limit: 2)) {
            _ = try Self.machine(disks: disks)
        }
    }

    /// A controller's stop reaches the machine as a state, not a blocked handler: a full host
    /// disk pauses it until `retryStorage()`, a failed fsync stops it naming the image.
    @Test func controllerStopsPauseOrStopTheMachine() throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = try DiskImage.create(path: dir + "/d.qcow2", format: .qcow2, size: 1 << 20)
        let machine = try Self.machine(disks: [.init(path: dir + "/d.qcow2", format: .qcow2, sizeBytes: nil, interface: .sata)])
        let ahci = try #require(machine.ahci)
        ahci.onStop?(.hostDiskFull(path: dir + "/d.qcow2"))
        #expect(machine.hostDiskFull == dir + "/d.qcow2" && machine.stopReason == nil)
        machine.retryStorage()
        #expect(machine.hostDiskFull == nil)
        ahci.onStop?(.flushFailed(path: dir + "/d.qcow2", message: "fsync of d.qcow2 failed"))
        #expect(machine.stopReason == .hostError("stopped: fsync of d.qcow2 failed"))
    }
}
