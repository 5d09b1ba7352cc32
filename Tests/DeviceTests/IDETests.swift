import Testing
@testable import Engine

/// A sparse in-memory disk that counts flushes and can be told to fail them, or to fail
/// writes as a full host file system does (ENOSPC: nothing of the write lands).
final class MemoryDisk: BlockDevice {
    let size: UInt64
    let isReadOnly = false
    private(set) var sectors: [UInt64: [UInt8]] = [:]
    private(set) var flushes = 0
    var failFlush = false
    var hostFull = false

    init(sectors count: UInt64) { size = count * 512 }

    func sector(_ lba: UInt64) -> [UInt8] { sectors[lba] ?? [UInt8](repeating: 0, count: 512) }
    func fill(_ lba: UInt64, with bytes: [UInt8]) { sectors[lba] = bytes }

    func read(at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(StorageError) {
        for i in 0..<(buffer.count / 512) {
            let data = sector(offset / 512 + UInt64(i))
            for j in 0..<512 { buffer[i * 512 + j] = data[j] }
        }
    }

    func write(at offset: UInt64, from buffer: UnsafeRawBufferPointer) throws(StorageError) {
        if hostFull { throw StorageError(path: "/full/disk.qcow2", problem: "host disk full (No space left on device)", kind: .hostDiskFull) }
        for i in 0..<(buffer.count / 512) {
            sectors[offset / 512 + UInt64(i)] = Array(buffer[(i * 512)..<((i + 1) * 512)])
        }
    }

    func flush() throws(StorageError) {
        if failFlush { throw StorageError(path: "memory", problem: "flush failed") }
        flushes += 1
    }
}

/// The PIIX3 IDE function driven through its ports as a guest driver would: task file at
/// 0x1F0-0x1F7/0x3F6, the bus master behind BAR4 with PRD tables in guest memory, IRQ14.
@Suite struct IDETests {
    static let busMaster: UInt16 = 0xC000
    static let status: UInt16 = 0x1F7
    let memory: MemoryMap
    let ports = PortMap()
    let irqs = IRQRecorder()
    let ide: PIIX3IDE
    /// Maps the bus-master BAR.
    let bus: PCIBus
    // Just past the 28-bit limit, so LBA48 is needed for the last sectors.
    let disk = MemoryDisk(sectors: (1 << 28) + 64)
    /// The machine's byte totals, which the disk adds to (IDENTIFY's block is not disk data).
    let counters = IOCounters()

    init() throws {
        memory = try MemoryMap(ramSize: 16 << 20)
        ide = PIIX3IDE(ports: ports, memory: memory, irq14: irqs.line(14), irq15: irqs.line(15), ioCounters: counters)
        ide.primary.attach(ATADisk(disk: disk), slot: 0)
        bus = PCIBus(memory: memory, ports: ports, interrupts: irqs.router)
        bus.attach(ide, device: 1, function: 1)
        ide.reset()
        ide.configWrite(0x20, width: 4, value: UInt32(Self.busMaster))
        ide.configWrite(0x04, width: 2, value: 0x0005) // I/O decode, bus master
    }

    static func pattern(_ seed: Int) -> [UInt8] { (0..<512).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ seed) } }

    /// Loads the task file: LBA48 writes the high ("previous") bytes first.
    func taskFile(lba: UInt64, count: Int, extended: Bool) {
        ports.write(0x3F6, width: 1, value: 0x00) // interrupts on (nIEN clear), HOB clear
        if extended {
            ports.write(0x1F2, width: 1, value: UInt32(count >> 8))
            ports.write(0x1F3, width: 1, value: UInt32((lba >> 24) & 0xFF))
            ports.write(0x1F4, width: 1, value: UInt32((lba >> 32) & 0xFF))
            ports.write(0x1F5, width: 1, value: UInt32((lba >> 40) & 0xFF))
            ports.write(0x1F6, width: 1, value: 0x40)
        } else {
            ports.write(0x1F6, width: 1, value: 0xE0 | UInt32((lba >> 24) & 0x0F))
        }
        ports.write(0x1F2, width: 1, value: UInt32(count & 0xFF))
        ports.write(0x1F3, width: 1, value: UInt32(lba & 0xFF))
        ports.write(0x1F4, width: 1, value: UInt32((lba >> 8) & 0xFF))
        ports.write(0x1F5, width: 1, value: UInt32((lba >> 16) & 0xFF))
    }

    func readWords(_ count: Int) -> [UInt16] { (0..<count).map { _ in UInt16(ports.read(0x1F0, width: 2)) } }

    func writeSector(_ bytes: [UInt8]) {
        for i in stride(from: 0, to: bytes.count, by: 2) {
            ports.write(0x1F0, width: 2, value: UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8)
        }
    }

    func bytes(_ words: [UInt16]) -> [UInt8] { words.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] } }

    /// A PRD table at `table`: (address, byte count) entries, the last one flagged.
    func prdTable(at table: UInt32, _ entries: [(UInt32, Int)]) {
        for (i, (address, count)) in entries.enumerated() {
            let last: UInt32 = i == entries.count - 1 ? 0x8000_0000 : 0
            memory.write(table + UInt32(8 * i), width: 4, value: address)
            memory.write(table + UInt32(8 * i + 4), width: 4, value: UInt32(count & 0xFFFF) | last)
        }
        ports.write(Self.busMaster + 4, width: 4, value: table)
    }

    func guestBytes(at address: UInt32, _ count: Int) -> [UInt8] {
        (0..<count).map { UInt8(memory.read(address + UInt32($0), width: 1)) }
    }

    @Test func identifyAdvertisesLBA48FlushAndDMA() {
        ports.write(0x1F6, width: 1, value: 0xA0)
        ports.write(Self.status, width: 1, value: 0xEC)
        #expect(ports.read(Self.status, width: 1) == 0x58) // DRDY DSC DRQ
        let w = readWords(256)
        #expect(ports.read(Self.status, width: 1) == 0x50)
        #expect(w[49] & 0x0300 == 0x0300) // LBA, DMA
        #expect(w[83] & 0x0400 != 0) // LBA48
        #expect(w[83] & 0x3000 == 0x3000) // FLUSH CACHE, FLUSH CACHE EXT
        #expect(w[86] & 0x0400 != 0) // LBA48 enabled
        #expect(counters.totals == IOCounters.Totals())
        let sectors = (0..<4).reduce(UInt64(0)) { $0 | UInt64(w[100 + $1]) << UInt64(16 * $1) }
        #expect(sectors == disk.size / 512)
        #expect(UInt32(w[60]) | UInt32(w[61]) << 16 == 0x0FFF_FFFF) // LBA28 capacity saturates
    }

    @Test func lba48PIOWriteAndReadBeyondThe28BitLimit() {
        let lba: UInt64 = (1 << 28) + 10
        taskFile(lba: lba, count: 2, extended: true)
        ports.write(Self.status, width: 1, value: 0x34) // WRITE SECTORS EXT
        #expect(ports.read(0x3F6, width: 1) & 0x08 != 0) // DRQ, no interrupt for the first block
        writeSector(Self.pattern(1))
        #expect(irqs.levels[14]) // the next block is wanted
        #expect(ports.read(Self.status, width: 1) == 0x58)
        #expect(!irqs.levels[14])
        writeSector(Self.pattern(2))
        #expect(irqs.levels[14]) // done
        #expect(ports.read(Self.status, width: 1) == 0x50)
        #expect(disk.sector(lba) == Self.pattern(1))
        #expect(disk.sector(lba + 1) == Self.pattern(2))
        #expect(disk.sector(lba & 0x0FFF_FFFF).allSatisfy { $0 == 0 }) // no 28-bit wrap-around
        #expect(counters.totals.diskWritten == 1024 && counters.totals.diskRead == 0)

        taskFile(lba: lba + 1, count: 1, extended: true)
        ports.write(Self.status, width: 1, value: 0x24) // READ SECTORS EXT
        #expect(irqs.levels[14])
        #expect(bytes(readWords(256)) == Self.pattern(2))
        #expect(counters.totals.diskRead == 512)
        // The task file holds the last LBA; HOB (control bit 7) shows its high bytes.
        #expect(ports.read(0x1F3, width: 1) == UInt32((lba + 1) & 0xFF))
        ports.write(0x3F6, width: 1, value: 0x80)
        #expect(ports.read(0x1F3, width: 1) == UInt32(((lba + 1) >> 24) & 0xFF))
    }

    @Test func lba48BeyondTheEndAbortsWithIDNF() {
        taskFile(lba: disk.size / 512 - 1, count: 2, extended: true)
        ports.write(Self.status, width: 1, value: 0x24)
        #expect(ports.read(Self.status, width: 1) & 0x01 != 0)
        #expect(ports.read(0x1F1, width: 1) == 0x10)
    }

    @Test func busMasterDMAReadScattersThroughThePRDTable() {
        for i in 0..<4 { disk.fill(100 + UInt64(i), with: Self.pattern(10 + i)) }
        prdTable(at: 0x1_0000, [(0x2_0000, 1024), (0x3_0000, 1024)])
        taskFile(lba: 100, count: 4, extended: false)
        ports.write(Self.status, width: 1, value: 0xC8) // READ DMA
        #expect(!irqs.levels[14]) // waits for the bus master
        ports.write(Self.busMaster, width: 1, value: 0x09) // start, towards memory
        #expect(guestBytes(at: 0x2_0000, 1024) == Self.pattern(10) + Self.pattern(11))
        #expect(guestBytes(at: 0x3_0000, 1024) == Self.pattern(12) + Self.pattern(13))
        #expect(counters.totals.diskRead == 2048 && counters.totals.diskWritten == 0)
        #expect(ports.read(Self.busMaster + 2, width: 1) & 0x05 == 0x04) // interrupt, not active
        #expect(irqs.levels[14])
        #expect(ports.read(Self.status, width: 1) == 0x50)
        #expect(!irqs.levels[14]) // the status read acknowledged it
        ports.write(Self.busMaster + 2, width: 1, value: 0x04) // write-one-to-clear
        #expect(ports.read(Self.busMaster + 2, width: 1) & 0x04 == 0)
        ports.write(Self.busMaster, width: 1, value: 0x00)
    }

    @Test func busMasterDMAWriteExtGathersIntoHighLBAs() {
        let lba: UInt64 = (1 << 28) + 32
        Self.pattern(21).withUnsafeBytes { memory.writeBytes(at: 0x5_0000, from: $0) }
        Self.pattern(20).withUnsafeBytes { memory.writeBytes(at: 0x4_0000, from: $0) }
        prdTable(at: 0x1_0000, [(0x4_0000, 512), (0x5_0000, 512)])
        // Start the engine first: the command then runs as soon as it is issued.
        ports.write(Self.busMaster, width: 1, value: 0x01)
        taskFile(lba: lba, count: 2, extended: true)
        ports.write(Self.status, width: 1, value: 0x35) // WRITE DMA EXT
        #expect(disk.sector(lba) == Self.pattern(20))
        #expect(disk.sector(lba + 1) == Self.pattern(21))
        #expect(counters.totals.diskWritten == 1024 && counters.totals.diskRead == 0)
        #expect(irqs.levels[14])
        #expect(ports.read(Self.busMaster + 2, width: 1) & 0x05 == 0x04)
    }

    @Test func flushCacheReachesTheImageAndReportsFailure() {
        ports.write(0x1F6, width: 1, value: 0xE0)
        for command: UInt32 in [0xE7, 0xEA] { // FLUSH CACHE, FLUSH CACHE EXT
            let edges = irqs.edges[14]
            ports.write(Self.status, width: 1, value: command)
            #expect(ports.read(Self.status, width: 1) == 0x50)
            #expect(irqs.edges[14] == edges + 1)
        }
        #expect(disk.flushes == 2)
        disk.failFlush = true
        ports.write(Self.status, width: 1, value: 0xE7)
        #expect(ports.read(Self.status, width: 1) & 0x01 != 0)
        #expect(ports.read(0x1F1, width: 1) != 0)
        #expect(disk.flushes == 2)
    }
}
