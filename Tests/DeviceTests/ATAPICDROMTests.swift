import TestSupport
import Testing
@testable import Engine

/// A disc in memory: sector n is filled with the byte n & 0xFF, after a 4-byte big-endian n.
final class PatternDisc: BlockDevice {
    let size: UInt64
    var failReads = false
    var isReadOnly: Bool { true }
    init(sectors: Int) { size = UInt64(sectors * ATAPICDROM.sectorSize) }

    static func sector(_ n: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: UInt8(n & 0xFF), count: ATAPICDROM.sectorSize)
        bytes[0] = UInt8(n >> 24); bytes[1] = UInt8((n >> 16) & 0xFF); bytes[2] = UInt8((n >> 8) & 0xFF); bytes[3] = UInt8(n & 0xFF)
        return bytes
    }

    func read(at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(StorageError) {
        if failReads { throw StorageError(path: "pattern", problem: "read failed: Input/output error") }
        guard offset + UInt64(buffer.count) <= size else { throw StorageError(path: "pattern", problem: "past the end") }
        for i in 0..<buffer.count {
            let position = Int(offset) + i
            buffer[i] = PatternDisc.sector(position / ATAPICDROM.sectorSize)[position % ATAPICDROM.sectorSize]
        }
    }
    func write(at offset: UInt64, from buffer: UnsafeRawBufferPointer) throws(StorageError) {
        throw StorageError(path: "pattern", problem: "read-only")
    }
    func flush() throws(StorageError) {}
}

/// Drives the CD-ROM through the secondary channel's ports, as a guest driver does.
final class ATAPIRig {
    let irqs = IRQRecorder()
    let memory: MemoryMap
    let channel: IDEChannel
    let drive: ATAPICDROM
    let disc = PatternDisc(sectors: 40)
    let counters = IOCounters()

    init() throws {
        memory = try MemoryMap(ramSize: 1 << 20)
        channel = IDEChannel(base: 0x170, controlPort: 0x376, irq: irqs.line(15), memory: memory, ioCounters: counters)
        drive = ATAPICDROM(medium: disc)
        channel.attach(drive, slot: 0)
        channel.reset()
    }

    func out(_ reg: UInt16, _ value: UInt8) { channel.portWrite(0x170 + reg, width: 1, value: UInt32(value)) }
    func inb(_ reg: UInt16) -> UInt8 { UInt8(channel.portRead(0x170 + reg, width: 1)) }
    var status: UInt8 { inb(7) }

    struct Reply {
        var data: [UInt8] = [], blocks: [Int] = []
        /// Interrupt reason (sector count) during each data block: 2 = IO, data to the host.
        var blockReasons: [UInt8] = []
        var status: UInt8 = 0, error: UInt8 = 0, reason: UInt8 = 0
    }

    /// Sends a 12-byte packet in PIO with a byte count limit and collects the data-in phase.
    func packet(_ cdb: [UInt8], limit: Int = 0xFFFE) -> Reply {
        out(6, 0xA0)
        out(1, 0)
        out(4, UInt8(limit & 0xFF)); out(5, UInt8(limit >> 8))
        out(7, 0xA0)
        guard status & IDEChannel.dataRequest != 0, inb(2) == 1 else { return Reply(status: status) } // no packet phase
        let bytes = cdb + [UInt8](repeating: 0, count: 12 - cdb.count)
        for i in stride(from: 0, to: 12, by: 2) { channel.portWrite(0x170, width: 2, value: UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8) }
        var reply = Reply()
        while status & IDEChannel.dataRequest != 0 {
            let count = Int(inb(4)) | Int(inb(5)) << 8
            reply.blocks.append(count)
            reply.blockReasons.append(inb(2))
            for _ in 0..<(count + 1) / 2 {
                let word = channel.portRead(0x170, width: 2)
                reply.data += [UInt8(word & 0xFF), UInt8(word >> 8)]
            }
            reply.data = Array(reply.data.prefix(reply.blocks.reduce(0, +)))
        }
        reply.status = status
        reply.error = inb(1)
        reply.reason = inb(2)
        return reply
    }

    /// REQUEST SENSE: (key, ASC, ASCQ).
    func sense() -> (UInt8, UInt8, UInt8) {
        let data = packet([0x03, 0, 0, 0, 18]).data
        return (data[2] & 0x0F, data[12], data[13])
    }
}

@Suite struct ATAPICDROMTests {
    @Test func signatureAndIdentifyPacketDevice() throws {
        let rig = try ATAPIRig()
        #expect(rig.inb(2) == 1 && rig.inb(3) == 1 && rig.inb(4) == 0x14 && rig.inb(5) == 0xEB)
        rig.out(6, 0xA0)
        rig.out(7, 0xEC) // IDENTIFY DEVICE: refused, signature kept for the host to see
        #expect(rig.status & IDEChannel.errorBit != 0 && rig.inb(4) == 0x14 && rig.inb(5) == 0xEB)
        rig.out(7, 0xA1)
        #expect(rig.status & IDEChannel.dataRequest != 0)
        let words = (0..<256).map { _ in UInt16(rig.channel.portRead(0x170, width: 2)) }
        #expect((words[0] >> 8) & 0x1F == 5 && words[0] & 0xC000 == 0x8000) // ATAPI CD-ROM class
        let model = words[27..<47].flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
        #expect(String(decoding: model, as: UTF8.self).hasPrefix("VMTUI DVD-ROM"))
        // One interrupt, for the data block; none after it (that is the packet protocol's).
        #expect(rig.irqs.edges[15] == 2 && rig.irqs.levels[15] == false)
        #expect(rig.status == IDEChannel.ready | IDEChannel.seekComplete)
    }

    @Test func readTenAndTwelveInByteCountLimitedBlocks() throws {
        let rig = try ATAPIRig()
        let read10 = rig.packet([0x28, 0, 0, 0, 0, 5, 0, 0, 3], limit: 2048)
        #expect(read10.blocks == [2048, 2048, 2048])
        #expect(read10.data == (5..<8).flatMap { PatternDisc.sector($0) })
        #expect(read10.status == 0x50 && read10.reason == 3 && read10.blockReasons == [2, 2, 2])
        // A limit that is not a sector multiple still delivers every byte, in order.
        let read12 = rig.packet([0xA8, 0, 0, 0, 0, 39, 0, 0, 0, 1], limit: 1000)
        #expect(read12.blocks == [1000, 1000, 48])
        #expect(read12.data == PatternDisc.sector(39))
        // Disc bytes read count, INQUIRY-style replies do not.
        #expect(rig.counters.totals.diskRead == 4 * 2048)
        _ = rig.packet([0x12, 0, 0, 0, 36, 0])
        #expect(rig.counters.totals.diskRead == 4 * 2048)
    }

    @Test func readPastTheEndAndIOErrorsAreSenseNotCrashes() throws {
        let rig = try ATAPIRig()
        let past = rig.packet([0x28, 0, 0, 0, 0, 39, 0, 0, 2])
        #expect(past.status & IDEChannel.errorBit != 0 && past.error >> 4 == 0x05 && past.data.isEmpty)
        #expect(rig.sense() == (0x05, 0x21, 0))
        #expect(rig.sense() == (0, 0, 0)) // reported once
        rig.disc.failReads = true
        let broken = rig.packet([0x28, 0, 0, 0, 0, 1, 0, 0, 1])
        #expect(broken.status & IDEChannel.errorBit != 0 && broken.error >> 4 == 0x03)
        #expect(rig.sense() == (0x03, 0x11, 0))
        #expect(rig.drive.lastError?.contains("Input/output error") == true)
        rig.disc.failReads = false
        // The disc taken out by the host in the middle of a 3-sector PIO read (the second sector is
        // already fetched when the first is drained): NOT READY, not a crash.
        rig.out(4, 0x00); rig.out(5, 0x08)
        rig.out(7, 0xA0)
        for word: UInt32 in [0x28, 0, 0x0100, 0, 0x0003, 0] { rig.channel.portWrite(0x170, width: 2, value: word) }
        for _ in 0..<1024 { _ = rig.channel.portRead(0x170, width: 2) }
        rig.drive.insert(nil)
        for _ in 0..<1024 { _ = rig.channel.portRead(0x170, width: 2) }
        #expect(rig.status & IDEChannel.errorBit != 0 && rig.inb(1) >> 4 == 0x02)
        let unknown = rig.packet([0xFF])
        #expect(unknown.error >> 4 == 0x05 && rig.sense() == (0x05, 0x20, 0))
    }

    @Test func capacityInquiryModeSenseAndTOC() throws {
        let rig = try ATAPIRig()
        #expect(rig.packet([0x25]).data == [0, 0, 0, 39, 0, 0, 0x08, 0])
        let inquiry = rig.packet([0x12, 0, 0, 0, 36]).data
        #expect(inquiry.count == 36 && inquiry[0] == 0x05 && inquiry[1] & 0x80 != 0)
        #expect(rig.packet([0x12, 0, 0, 0, 5]).data.count == 5) // allocation length honoured
        #expect(rig.packet([0x12, 0x01, 0x83, 0, 36]).error >> 4 == 0x05) // no VPD pages
        let capabilities = rig.packet([0x5A, 0, 0x2A, 0, 0, 0, 0, 0, 64]).data
        #expect(capabilities.count == 28 && capabilities[8] == 0x2A && Int(capabilities[1]) == capabilities.count - 2)
        #expect(rig.packet([0x5A, 0, 0x05, 0, 0, 0, 0, 0, 64]).error >> 4 == 0x05)
        let toc = rig.packet([0x43, 0, 0, 0, 0, 0, 0, 0, 100]).data
        #expect(toc == [0, 18, 1, 1, 0, 0x14, 1, 0, 0, 0, 0, 0, 0, 0x14, 0xAA, 0, 0, 0, 0, 40])
        let msf = rig.packet([0x43, 0x02, 0, 0, 0, 0, 0, 0, 100]).data
        #expect(Array(msf[16..<20]) == [0, 0, 2, 40]) // lead-out at 40 + 150 frames = 00:02:40
        let disc = rig.packet([0x51, 0, 0, 0, 0, 0, 0, 0, 34]).data
        #expect(disc.count == 34 && disc[1] == 32 && disc[2] & 0x03 == 0x02) // complete disc
        let configuration = rig.packet([0x46, 0, 0, 0, 0, 0, 0, 0, 255]).data
        #expect(configuration[6] == 0 && configuration[7] == 0x08) // current profile: CD-ROM
        let total = Int(configuration[3]) + 4
        #expect(total == configuration.count)
    }

    @Test func mediaChangeEjectAndLock() throws {
        let rig = try ATAPIRig()
        #expect(rig.packet([0x00]).status == 0x50)
        rig.drive.insert(PatternDisc(sectors: 80))
        let attention = rig.packet([0x00])
        #expect(attention.error >> 4 == 0x06 && rig.sense() == (0x06, 0x28, 0))
        #expect(rig.packet([0x00]).status == 0x50)
        #expect(rig.packet([0x25]).data[3] == 79)
        rig.drive.insert(PatternDisc(sectors: 90)) // REQUEST SENSE also reports and clears it
        #expect(rig.sense() == (0x06, 0x28, 0) && rig.packet([0x00]).status == 0x50)
        let event = rig.packet([0x4A, 0x01, 0, 0, 0x10, 0, 0, 0, 8]).data
        #expect(event[4] == 2 && event[5] == 0x02) // new media, present
        #expect(rig.packet([0x4A, 0x01, 0, 0, 0x10, 0, 0, 0, 8]).data[4] == 0)
        _ = rig.packet([0x1E, 0, 0, 0, 1]) // prevent removal
        let refused = rig.packet([0x1B, 0, 0, 0, 0x02])
        #expect(refused.error >> 4 == 0x05 && rig.sense() == (0x05, 0x53, 0x02))
        rig.drive.reset() // a machine reset unlocks the tray
        #expect(!rig.drive.isLocked)
        _ = rig.packet([0x1E, 0, 0, 0, 0])
        #expect(rig.packet([0x1B, 0, 0, 0, 0x02]).status == 0x50)
        #expect(rig.drive.medium == nil)
        #expect(rig.packet([0x00]).error >> 4 == 0x02 && rig.sense() == (0x02, 0x3A, 0))
    }

    @Test func readThroughBusMasterDMA() throws {
        let rig = try ATAPIRig()
        // PRD table at 0x1000: one entry, 4 KiB at 0x2000, last.
        rig.memory.write(0x1000, width: 4, value: 0x2000)
        rig.memory.write(0x1004, width: 4, value: 0x8000_1000)
        rig.channel.prdTable = 0x1000
        rig.out(6, 0xA0)
        rig.out(1, 0x01) // DMA
        rig.out(7, 0xA0)
        let cdb: [UInt8] = [0x28, 0, 0, 0, 0, 7, 0, 0, 2, 0, 0, 0]
        for i in stride(from: 0, to: 12, by: 2) { rig.channel.portWrite(0x170, width: 2, value: UInt32(cdb[i]) | UInt32(cdb[i + 1]) << 8) }
        rig.channel.busMasterWrite(command: 0x09) // start, to memory
        var data = [UInt8](repeating: 0, count: 4096)
        data.withUnsafeMutableBytes { rig.memory.readBytes(at: 0x2000, into: $0) }
        #expect(data == PatternDisc.sector(7) + PatternDisc.sector(8))
        #expect(rig.counters.totals.diskRead == 4096)
        #expect(rig.status == 0x50 && rig.inb(2) == 3 && rig.irqs.levels[15] == false)
        #expect(rig.channel.busMasterStatus & 0x04 != 0)
    }

    /// Random packets (known opcodes with random fields, random byte count limits, PIO and DMA,
    /// with and without a disc): every one ends in a status phase, and the drive keeps working.
    @Test func randomPacketsNeverWedgeOrTrap() throws {
        let rig = try ATAPIRig()
        var rng = SeededRandom(seed: 0x5EED)
        let opcodes: [UInt8] = [0x00, 0x03, 0x12, 0x1B, 0x1E, 0x25, 0x28, 0x2B, 0x43, 0x46, 0x4A, 0x51, 0x5A, 0xA8, 0xBB, 0xBD, 0xBE, 0xAD]
        rig.memory.write(0x1000, width: 4, value: 0x10000)
        rig.memory.write(0x1004, width: 4, value: 0x8000_0000) // 64 KiB, last
        rig.channel.prdTable = 0x1000
        for round in 0..<3000 {
            if round % 500 == 250 { rig.drive.insert(round % 1000 == 250 ? nil : rig.disc) }
            var cdb = (0..<12).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            cdb[0] = opcodes[Int(rng.next() % UInt64(opcodes.count))]
            if rng.next() % 2 == 0 { cdb[2...5] = [0, 0, 0, UInt8(rng.next() % 48)]; cdb[6...9] = [0, 0, 0, UInt8(rng.next() % 4)] }
            let dma = rng.next() % 4 == 0
            rig.out(1, dma ? 1 : 0)
            if dma {
                rig.out(7, 0xA0)
                for i in stride(from: 0, to: 12, by: 2) { rig.channel.portWrite(0x170, width: 2, value: UInt32(cdb[i]) | UInt32(cdb[i + 1]) << 8) }
                rig.channel.busMasterWrite(command: 0x09)
                rig.channel.busMasterWrite(command: 0x00)
                // A transfer larger than the PRD table (or refused) leaves no DRQ behind either way.
                if rig.status & IDEChannel.dataRequest != 0 { rig.channel.reset() }
            } else {
                let reply = rig.packet(cdb, limit: Int(rng.next() % 0x10000))
                #expect(reply.status & (IDEChannel.busy | IDEChannel.dataRequest) == 0, "round \(round): \(cdb)")
                #expect(reply.reason == 3, "round \(round): \(cdb)")
            }
        }
        rig.drive.insert(rig.disc)
        _ = rig.sense()
        #expect(rig.packet([0x28, 0, 0, 0, 0, 3, 0, 0, 1]).data == PatternDisc.sector(3))
    }
}
