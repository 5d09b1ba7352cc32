import Foundation
import Testing
@testable import Engine

/// The AHCI controller driven through ABAR with command lists in guest RAM, no CPU, and a raw
/// image in a scratch directory (or an in-memory disk where flushes are counted).
@Suite struct AHCITests {
    static let interruptLine = AHCIRig.interruptLine
    let scratch: String
    let image: any DiskImageFile
    let rig: AHCIRig

    init() throws {
        scratch = NSTemporaryDirectory() + "vmtui-ahci-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        image = try DiskImage.create(path: scratch + "/disk.img", format: .raw, size: 8 << 20)
        rig = try AHCIRig(disk: image)
    }

    func cleanUp() { try? FileManager.default.removeItem(atPath: scratch) }

    @Test func hbaRegistersAfterResetAndGHCReset() {
        defer { cleanUp() }
        #expect(rig.ahci.configRead(0x00, width: 4) == 0x2922_8086)
        #expect(rig.ahci.configRead(0x08, width: 4) >> 8 == 0x01_06_01)
        #expect(rig.ahci.configRead(0x3D, width: 1) == 1) // INTA
        let cap = rig.hba(0x00)
        #expect(cap & 0x1F == 5) // six ports
        #expect((cap >> 8) & 0x1F == 31) // 32 command slots
        #expect(cap & (1 << 30) != 0) // NCQ
        #expect(cap & (1 << 18) != 0) // AHCI only
        #expect(rig.hba(0x04) == 0x8000_0000) // AE, interrupts off
        #expect(rig.hba(0x0C) == 0x3F)
        #expect(rig.hba(0x10) == 0x0001_0000)
        #expect(rig.port(0x24) == 0x0000_0101) // disk signature
        #expect(rig.port(0x28) == 0x113) // present, Gen1, active
        #expect(rig.port(0x20) == 0x150)
        #expect(rig.port(0x24, 1) == 0xFFFF_FFFF) // nothing on port 1
        #expect(rig.port(0x28, 1) == 0)

        rig.startPort()
        #expect(rig.port(0x18) & 0xC011 == 0xC011)
        #expect(rig.port(0x00) == UInt32(AHCIRig.commandList))
        rig.setHBA(0x04, 1) // HR
        #expect(rig.hba(0x04) == 0x8000_0000)
        #expect(rig.port(0x00) == 0)
        #expect(rig.port(0x14) == 0)
        #expect(rig.port(0x18) & 0xC011 == 0)
        #expect(rig.port(0x24) == 0x0000_0101)
    }

    @Test func portStartStopHandshake() {
        defer { cleanUp() }
        rig.setPort(0x00, UInt32(AHCIRig.commandList))
        rig.setPort(0x08, UInt32(AHCIRig.fisArea))
        rig.setPort(0x38, 1) // issued while stopped: ignored
        #expect(rig.port(0x38) == 0)
        rig.setPort(0x18, 0x10)
        #expect(rig.port(0x18) & 0x4000 != 0) // FR follows FRE
        rig.setPort(0x18, 0x11)
        #expect(rig.port(0x18) & 0x8000 != 0) // CR follows ST
        rig.setPort(0x18, 0x10)
        #expect(rig.port(0x18) & 0x8000 == 0)
        rig.setPort(0x18, 0x00)
        #expect(rig.port(0x18) & 0x4000 == 0)
    }

    @Test func comresetThroughSCTLPostsTheSignatureFIS() {
        defer { cleanUp() }
        rig.startPort()
        rig.setPort(0x2C, 1) // DET = 1: COMRESET
        #expect(rig.port(0x28) == 0)
        rig.setPort(0x2C, 0)
        #expect(rig.port(0x28) == 0x113)
        #expect(rig.port(0x24) == 0x101)
        let fis = rig.bytes(at: AHCIRig.fisArea + 0x40, 14)
        #expect(fis[0] == 0x34 && fis[2] == 0x50 && fis[12] == 1 && fis[4] == 1)
    }

    @Test func identifyThroughTheCommandList() {
        defer { cleanUp() }
        rig.startPort()
        let buffer: UInt64 = 0x40000
        rig.issue(AHCIRig.fis(0xEC), prdt: [(buffer, 512)])
        #expect(rig.port(0x38) == 0)
        #expect(rig.transferred(slot: 0) == 512)
        let data = rig.bytes(at: buffer, 512)
        let word = { (i: Int) in UInt16(data[2 * i]) | UInt16(data[2 * i + 1]) << 8 }
        let sectors = (0..<4).reduce(UInt64(0)) { $0 | UInt64(word(100 + $1)) << UInt64(16 * $1) }
        #expect(sectors == image.size / 512)
        #expect(word(76) & 0x0100 != 0) // NCQ
        #expect(word(75) == 31)
        #expect(word(169) & 1 == 1) // TRIM: raw images punch holes
        #expect(rig.bytes(at: AHCIRig.fisArea + 0x20, 1) == [0x5F]) // PIO setup FIS
        #expect(rig.bytes(at: AHCIRig.fisArea + 0x40, 4) == [0x34, 0x40, 0x50, 0x00]) // D2H, I, ready
        #expect(rig.port(0x10) & 0x3 == 0x3) // DHRS, PSS
        #expect(rig.irqs.levels[Self.interruptLine])
    }

    @Test func dmaWriteThenReadWithMultiEntryPRDTs() throws {
        defer { cleanUp() }
        rig.startPort()
        let data = AHCIRig.pattern(8 * 512, seed: 3)
        rig.put(Array(data[0..<1024]), at: 0x40000)
        rig.put(Array(data[1024..<3072]), at: 0x51000)
        rig.put(Array(data[3072...]), at: 0x63000)
        rig.issue(AHCIRig.fis(0x35, lba: 100, count: 8), prdt: [(0x40000, 1024), (0x51000, 2048), (0x63000, 1024)], write: true)
        #expect(rig.port(0x38) == 0 && rig.port(0x10) & 0x4000_0000 == 0)
        #expect(rig.transferred(slot: 0) == 4096)
        var onDisk = [UInt8](repeating: 0, count: 4096)
        try onDisk.withUnsafeMutableBytes { try image.read(at: 100 * 512, into: $0) }
        #expect(onDisk == data)

        rig.issue(slot: 5, AHCIRig.fis(0x25, lba: 100, count: 8), prdt: [(0x80000, 512), (0x90000, 3584)])
        #expect(rig.port(0x38) == 0)
        #expect(rig.bytes(at: 0x80000, 512) + rig.bytes(at: 0x90000, 3584) == data)
        #expect(rig.bytes(at: AHCIRig.fisArea + 0x40, 8)[4...6] == [107, 0, 0]) // last LBA
    }

    @Test func queuedWritesAndReadsCompleteThroughSetDeviceBits() {
        defer { cleanUp() }
        rig.startPort()
        for tag in 0..<4 {
            let data = AHCIRig.pattern(1024, seed: tag)
            let buffer = 0x100000 + UInt64(tag) * 0x1000
            rig.put(data, at: buffer)
            rig.prepare(slot: tag, fis: AHCIRig.queuedFIS(write: true, tag: tag, lba: 64 + UInt64(tag) * 2, sectors: 2),
                        prdt: [(buffer, 1024)], write: true)
        }
        rig.setPort(0x34, 0xF) // SACT first, then CI, as libata does
        #expect(rig.port(0x34) == 0xF)
        rig.setPort(0x38, 0xF)
        #expect(rig.port(0x38) == 0)
        #expect(rig.port(0x34) == 0) // every tag completed
        #expect(rig.port(0x10) & 0x8 != 0) // SDBS
        let sdb = rig.bytes(at: AHCIRig.fisArea + 0x58, 8)
        #expect(sdb[0] == 0xA1 && sdb[1] & 0x40 != 0 && sdb[4] == 0x08) // the last one: tag 3

        rig.setPort(0x10, 0xFFFF_FFFF)
        for tag in 0..<4 {
            rig.prepare(slot: tag + 8, fis: AHCIRig.queuedFIS(write: false, tag: tag + 8, lba: 64 + UInt64(tag) * 2, sectors: 2),
                        prdt: [(0x200000 + UInt64(tag) * 0x1000, 1024)])
        }
        rig.setPort(0x34, 0xF00)
        rig.setPort(0x38, 0xF00)
        #expect(rig.port(0x34) == 0 && rig.port(0x38) == 0)
        for tag in 0..<4 {
            #expect(rig.bytes(at: 0x200000 + UInt64(tag) * 0x1000, 1024) == AHCIRig.pattern(1024, seed: tag))
        }
    }

    @Test func queuedCommandWithoutItsSACTBitFails() {
        defer { cleanUp() }
        rig.startPort()
        rig.issue(AHCIRig.queuedFIS(write: false, tag: 0, lba: 0, sectors: 1), prdt: [(0x40000, 512)])
        #expect(rig.port(0x10) & 0x4000_0000 != 0)
    }

    @Test func flushCacheReachesTheImage() throws {
        defer { cleanUp() }
        let disk = MemoryDisk(sectors: 2048)
        let rig = try AHCIRig(disk: disk)
        rig.startPort()
        rig.issue(AHCIRig.fis(0xEA))
        #expect(disk.flushes == 1)
        #expect(rig.port(0x20) & 0xFF == 0x50)
        disk.failFlush = true
        rig.issue(slot: 1, AHCIRig.fis(0xE7))
        #expect(rig.port(0x10) & 0x4000_0000 != 0) // an ordinary I/O error: the guest sees it
        #expect(rig.port(0x20) & 0x01 != 0)
        #expect(rig.stops.isEmpty)
    }

    @Test func trimPunchesTheRangeOutOfARawImage() throws {
        defer { cleanUp() }
        rig.startPort()
        let data = [UInt8](repeating: 0xAB, count: 128 * 1024)
        rig.put(data, at: 0x100000)
        rig.issue(AHCIRig.fis(0x35, lba: 256, count: 256), prdt: [(0x100000, data.count)], write: true)
        try image.flush()
        let before = image.info.allocatedBytes
        #expect(before >= 128 * 1024)
        // One range: LBA 256, 256 sectors; a second zero-length entry is padding.
        var list = [UInt8](repeating: 0, count: 512)
        let entry = UInt64(256) | UInt64(256) << 48
        for i in 0..<8 { list[i] = UInt8(truncatingIfNeeded: entry >> UInt64(8 * i)) }
        rig.put(list, at: 0x40000)
        rig.issue(slot: 1, AHCIRig.fis(0x06, count: 1, features: 1), prdt: [(0x40000, 512)], write: true)
        #expect(rig.port(0x38) == 0 && rig.port(0x10) & 0x4000_0000 == 0)
        #expect(image.info.allocatedBytes <= before - 128 * 1024)
        #expect(try image.readsAsZeros(at: 256 * 512, count: 128 * 1024))
    }

    @Test func prdtOutsideRAMIsATaskFileErrorAndTheEngineRecovers() {
        defer { cleanUp() }
        rig.startPort()
        rig.issue(slot: 2, AHCIRig.fis(0x25, lba: 0, count: 1), prdt: [(0xF000_0000, 512)])
        #expect(rig.port(0x10) & 0x6000_0000 == 0x6000_0000) // TFES, HBFS
        #expect(rig.port(0x20) & 0x01 != 0) // ERR in PxTFD
        #expect(rig.port(0x38) == 4) // the failed slot stays issued
        #expect((rig.port(0x18) >> 8) & 0x1F == 2) // CCS names it
        rig.issue(slot: 3, AHCIRig.fis(0x25, lba: 0, count: 1), prdt: [(0x40000, 512)])
        #expect(rig.port(0x38) & 8 != 0) // halted: nothing runs until the port restarts
        rig.setPort(0x18, 0x10)
        rig.setPort(0x10, 0xFFFF_FFFF)
        rig.setPort(0x18, 0x11)
        rig.issue(slot: 3, AHCIRig.fis(0x25, lba: 0, count: 1), prdt: [(0x40000, 512)])
        #expect(rig.port(0x38) == 0 && rig.port(0x10) & 0x4000_0000 == 0)
    }

    @Test func commandTableAndPRDTsThatWrapOrOverflowFailCleanly() {
        defer { cleanUp() }
        rig.startPort()
        rig.prepare(slot: 0, fis: AHCIRig.fis(0x25, lba: 0, count: 1), prdt: [], table: 0xFFFF_FFFF_FFFF_FF80)
        rig.setPort(0x38, 1)
        #expect(rig.port(0x10) & 0x2000_0000 != 0)
        rig.setPort(0x18, 0x10); rig.setPort(0x10, 0xFFFF_FFFF); rig.setPort(0x18, 0x11)
        // A PRDT region running past the end of RAM, and one too short for the transfer.
        rig.issue(slot: 1, AHCIRig.fis(0x35, lba: 0, count: 16), prdt: [(UInt64(rig.memory.ramSize) - 512, 8192)], write: true)
        #expect(rig.port(0x10) & 0x2000_0000 != 0)
        rig.setPort(0x18, 0x10); rig.setPort(0x10, 0xFFFF_FFFF); rig.setPort(0x18, 0x11)
        rig.issue(slot: 2, AHCIRig.fis(0x25, lba: 0, count: 16), prdt: [(0x40000, 512)])
        #expect(rig.port(0x10) & 0x4000_0000 != 0)
        #expect(rig.port(0x20) >> 8 == 0x04) // aborted
    }

    @Test func lbaPastTheEndIsIDNotFound() {
        defer { cleanUp() }
        rig.startPort()
        let last = image.size / 512 - 1
        rig.issue(AHCIRig.fis(0x25, lba: last, count: 2), prdt: [(0x40000, 1024)])
        #expect(rig.port(0x10) & 0x4000_0000 != 0)
        #expect(rig.port(0x20) >> 8 == 0x10)
        rig.setPort(0x18, 0x10); rig.setPort(0x10, 0xFFFF_FFFF); rig.setPort(0x18, 0x11)
        rig.issue(slot: 1, AHCIRig.fis(0xF8 - 0xD1, lba: 0, count: 0)) // READ NATIVE MAX ADDRESS EXT (0x27)
        let fis = rig.bytes(at: AHCIRig.fisArea + 0x40, 11)
        let reported = [4, 5, 6, 8, 9, 10].enumerated().reduce(UInt64(0)) { $0 | UInt64(fis[$1.element]) << UInt64(8 * $1.offset) }
        #expect(reported == last)
    }

    @Test func interruptFollowsIEAndWriteOneToClearStatus() {
        defer { cleanUp() }
        rig.startPort()
        rig.setHBA(0x04, 0x8000_0000) // interrupts off
        rig.issue(AHCIRig.fis(0xEF))
        #expect(rig.port(0x10) & 1 != 0)
        #expect(rig.hba(0x08) == 1) // IS records the port
        #expect(!rig.irqs.levels[Self.interruptLine])
        rig.setHBA(0x04, 0x8000_0002)
        #expect(rig.irqs.levels[Self.interruptLine])
        rig.setPort(0x10, 0xFFFF_FFFF) // PxIS cleared
        #expect(rig.irqs.levels[Self.interruptLine]) // IS still holds the line
        rig.setHBA(0x08, 1)
        #expect(!rig.irqs.levels[Self.interruptLine])
        rig.setPort(0x14, 0) // masked: status shows, no interrupt
        rig.issue(slot: 1, AHCIRig.fis(0xEF))
        #expect(rig.port(0x10) & 1 != 0)
        #expect(rig.hba(0x08) == 0)
        #expect(!rig.irqs.levels[Self.interruptLine])
    }

    /// With MSI enabled (found by walking the capability list, as a guest does) a completion
    /// sends one message and INTA# stays low; clearing PxIS then IS sends nothing more, a port
    /// still pending when IS is cleared sends again, and disabling MSI hands back to INTA#.
    @Test func completionsByMSIWhenEnabled() {
        defer { cleanUp() }
        let msis = MSIRecorder()
        rig.bus.msiSink = msis
        #expect(rig.ahci.configRead(0x06, width: 2) & 0x10 != 0) // capability list
        let cap = Int(rig.ahci.configRead(0x34, width: 1))
        #expect(rig.ahci.configRead(cap, width: 1) == 0x05) // MSI
        rig.ahci.configWrite(cap + 4, width: 4, value: 0xFEE0_0000)
        rig.ahci.configWrite(cap + 8, width: 4, value: 0)
        rig.ahci.configWrite(cap + 0x0C, width: 2, value: 0x0041)
        rig.ahci.configWrite(cap + 2, width: 2, value: 0x0001)
        let message = MSIMessage(address: 0xFEE0_0000, data: 0x41)
        rig.startPort()
        rig.issue(AHCIRig.fis(0xEF))
        #expect(msis.messages == [message])
        #expect(!rig.irqs.levels[Self.interruptLine])
        rig.setPort(0x10, 0xFFFF_FFFF)
        rig.setHBA(0x08, 1)
        #expect(msis.messages.count == 1)
        rig.issue(slot: 1, AHCIRig.fis(0xEF))
        #expect(msis.messages == [message, message])
        rig.setHBA(0x08, 1) // PxIS not cleared: the port is still pending
        #expect(msis.messages.count == 3)
        rig.ahci.configWrite(cap + 2, width: 2, value: 0)
        #expect(rig.irqs.levels[Self.interruptLine])
        #expect(msis.messages.count == 3)
    }
}
