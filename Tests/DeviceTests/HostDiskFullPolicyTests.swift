import Testing
@testable import Engine

/// The per-disk policy for a guest write that finds the host disk full, on a disk whose
/// writes fail with ENOSPC: `pause` keeps the request and stops the VM (the guest sees
/// nothing), `report` fails the request in the guest (ATA ABRT on AHCI, IOERR on virtio-blk)
/// with no stop, the disk untouched, and the controller still serving the next request.
@Suite struct HostDiskFullPolicyTests {
    static let old = [UInt8](repeating: 0x11, count: 512)

    func fullDisk() -> MemoryDisk {
        let disk = MemoryDisk(sectors: 2048)
        disk.fill(100, with: Self.old)
        disk.hostFull = true
        return disk
    }

    @Test func ahciPausePolicyKeepsTheWriteIssued() throws {
        let rig = try AHCIRig(disk: fullDisk())
        rig.startPort()
        rig.put([UInt8](repeating: 0x22, count: 512), at: 0x40000)
        rig.issue(AHCIRig.fis(0x35, lba: 100, count: 1), prdt: [(0x40000, 512)], write: true)
        #expect(rig.stops == [.hostDiskFull(path: "/full/disk.qcow2")])
        #expect(rig.port(0x38) == 1 && rig.port(0x10) == 0) // still issued, no error, no interrupt
    }

    @Test func ahciReportPolicyFailsTheWriteWithABRT() throws {
        let disk = fullDisk()
        let rig = try AHCIRig(disk: disk)
        rig.ahci.attach(.disk(disk), port: 0, onHostDiskFull: .report)
        rig.startPort()
        rig.put([UInt8](repeating: 0x22, count: 512), at: 0x40000)
        rig.issue(AHCIRig.fis(0x35, lba: 100, count: 1), prdt: [(0x40000, 512)], write: true)
        #expect(rig.stops.isEmpty) // the VM runs on
        #expect(rig.port(0x10) & 0x4000_0000 != 0) // TFES: Linux's ahci reports an I/O error
        #expect(rig.port(0x20) & 0xFF == 0x41 && rig.port(0x20) >> 8 == 0x04) // DRDY|ERR, ABRT
        #expect(rig.irqs.levels[AHCIRig.interruptLine])
        #expect(disk.sector(100) == Self.old)

        // A queued write fails the same way, its tag in the NCQ error log.
        rig.setPort(0x18, 0x10)
        rig.setPort(0x10, 0xFFFF_FFFF)
        rig.setPort(0x18, 0x11)
        rig.setPort(0x34, 1 << 5)
        rig.issue(slot: 5, AHCIRig.queuedFIS(write: true, tag: 5, lba: 100, sectors: 1), prdt: [(0x40000, 512)], write: true)
        #expect(rig.stops.isEmpty)
        #expect(rig.port(0x10) & 0x4000_0000 != 0 && rig.port(0x20) >> 8 == 0x04)
        rig.setPort(0x18, 0x10)
        rig.setPort(0x10, 0xFFFF_FFFF)
        rig.setPort(0x18, 0x11)
        rig.issue(slot: 0, AHCIRig.fis(0x2F, lba: 0x10, count: 1), prdt: [(0x50000, 512)])
        #expect(rig.bytes(at: 0x50000, 1) == [5])

        // Space freed: the same write now lands, with no restart of anything but the port.
        disk.hostFull = false
        rig.issue(slot: 1, AHCIRig.fis(0x35, lba: 100, count: 1), prdt: [(0x40000, 512)], write: true)
        #expect(rig.port(0x38) == 0 && rig.port(0x10) & 0x4000_0000 == 0)
        #expect(disk.sector(100) == [UInt8](repeating: 0x22, count: 512))
    }

    @Test func virtioReportPolicyCompletesTheWriteWithIOERR() throws {
        let disk = fullDisk()
        let rig = try VirtioBlockRig(disk: disk)
        rig.block.onHostDiskFull = .report
        rig.initialize()
        #expect(rig.request(type: 1, sector: 100, write: [UInt8](repeating: 0x22, count: 512)) == 1)
        #expect(rig.usedIndex == 1)
        #expect(rig.stops.isEmpty)
        #expect(rig.irqs.levels[VirtioBlockTests.line])
        #expect(disk.sector(100) == Self.old)
        disk.hostFull = false
        #expect(rig.request(type: 1, sector: 100, write: [UInt8](repeating: 0x22, count: 512)) == 0)
        #expect(rig.usedIndex == 2)
        #expect(disk.sector(100) == [UInt8](repeating: 0x22, count: 512))
    }

    @Test func virtioPausePolicyLeavesTheWriteAvailable() throws {
        let rig = try VirtioBlockRig(disk: fullDisk())
        rig.initialize()
        #expect(rig.request(type: 1, sector: 100, write: [UInt8](repeating: 0x22, count: 512)) == 0xFF)
        #expect(rig.usedIndex == 0)
        #expect(rig.stops == [.hostDiskFull(path: "/full/disk.qcow2")])
    }
}

/// The IDE disk holds a write on a full host disk as the other controllers do: BSY, no
/// interrupt, until `retry()`; under `report` the command aborts with ABRT.
extension IDETests {
    final class Stops { var list: [DiskControllerStop] = [] }

    func watchedDrive() -> (ATADisk, Stops) {
        let drive = ide.primary.drives[0] as! ATADisk
        let stops = Stops()
        drive.onStop = { stops.list.append($0) }
        disk.hostFull = true
        return (drive, stops)
    }

    @Test func pioWriteOnAFullHostDiskWaitsForRetry() {
        let (drive, stops) = watchedDrive()
        taskFile(lba: 100, count: 2, extended: false)
        ports.write(Self.status, width: 1, value: 0x30) // WRITE SECTORS
        writeSector(Self.pattern(1))
        #expect(stops.list == [.hostDiskFull(path: "/full/disk.qcow2")])
        #expect(ports.read(0x3F6, width: 1) == 0x80 && !irqs.levels[14]) // busy, nothing to the guest
        drive.retry()
        #expect(stops.list.count == 2 && ports.read(0x3F6, width: 1) == 0x80) // still full
        disk.hostFull = false
        drive.retry()
        #expect(irqs.levels[14]) // the second block is wanted
        #expect(ports.read(Self.status, width: 1) == 0x58)
        writeSector(Self.pattern(2))
        #expect(ports.read(Self.status, width: 1) == 0x50)
        #expect(disk.sector(100) == Self.pattern(1) && disk.sector(101) == Self.pattern(2))
    }

    @Test func dmaWriteOnAFullHostDiskWaitsForRetry() {
        let (drive, stops) = watchedDrive()
        Self.pattern(3).withUnsafeBytes { memory.writeBytes(at: 0x4_0000, from: $0) }
        prdTable(at: 0x1_0000, [(0x4_0000, 512)])
        ports.write(Self.busMaster, width: 1, value: 0x01)
        taskFile(lba: 200, count: 1, extended: false)
        ports.write(Self.status, width: 1, value: 0xCA) // WRITE DMA
        #expect(stops.list == [.hostDiskFull(path: "/full/disk.qcow2")])
        #expect(ports.read(0x3F6, width: 1) == 0x80 && !irqs.levels[14])
        disk.hostFull = false
        drive.retry()
        #expect(irqs.levels[14])
        #expect(ports.read(Self.status, width: 1) == 0x50)
        #expect(ports.read(Self.busMaster + 2, width: 1) & 0x05 == 0x04)
        #expect(disk.sector(200) == Self.pattern(3))
        drive.retry()
        #expect(stops.list.count == 1) // nothing left to run
    }

    @Test func reportPolicyAbortsTheWrite() {
        let (drive, stops) = watchedDrive()
        drive.onHostDiskFull = .report
        disk.fill(100, with: Self.pattern(9))
        taskFile(lba: 100, count: 1, extended: false)
        ports.write(Self.status, width: 1, value: 0x30)
        writeSector(Self.pattern(1))
        #expect(stops.list.isEmpty)
        #expect(ports.read(Self.status, width: 1) & 0x01 != 0) // ERR
        #expect(ports.read(0x1F1, width: 1) == 0x04) // ABRT
        #expect(disk.sector(100) == Self.pattern(9))
    }

    @Test func aResetDropsAHeldWrite() {
        let (drive, stops) = watchedDrive()
        taskFile(lba: 100, count: 1, extended: false)
        ports.write(Self.status, width: 1, value: 0x30)
        writeSector(Self.pattern(1))
        drive.reset()
        disk.hostFull = false
        drive.retry()
        #expect(stops.list.count == 1 && disk.sector(100) == [UInt8](repeating: 0, count: 512))
    }
}
