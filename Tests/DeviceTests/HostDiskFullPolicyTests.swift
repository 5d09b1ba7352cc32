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
