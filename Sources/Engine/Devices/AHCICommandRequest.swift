/// One issued AHCI command, read from guest memory: its command header (slot in the command
/// list), the register H2D FIS of its command table and its PRDT. Data moves between the PRDT's
/// regions and a host buffer through the DMA API; anything outside RAM throws `DMAError`.
struct AHCICommandRequest {
    let slot: Int
    /// Command FIS (20 bytes of register H2D FIS) and ATAPI command (16 bytes).
    let fis: [UInt8]
    let atapiCommand: [UInt8]
    /// (guest address, byte count) of each PRDT entry.
    let regions: [(address: UInt64, count: Int)]

    init(slot: Int, header: UInt64, memory: MemoryMap) throws(DMAError) {
        self.slot = slot
        let flags: UInt32 = try memory.dmaRead(header, as: UInt32.self)
        let tableLow: UInt32 = try memory.dmaRead(header &+ 8, as: UInt32.self)
        let tableHigh: UInt32 = try memory.dmaRead(header &+ 12, as: UInt32.self)
        let table = UInt64(tableHigh) << 32 | UInt64(tableLow & ~0x7F)
        let head = try memory.dmaReadBytes(table, count: 0x50)
        fis = Array(head[0..<20])
        atapiCommand = Array(head[0x40..<0x50])
        let entries = Int(flags >> 16)
        let (prdtAddress, overflow) = table.addingReportingOverflow(0x80)
        guard !overflow else { throw DMAError(address: table, length: 0x80 + entries * 16, isWrite: false) }
        let prdt = try memory.dmaReadBytes(prdtAddress, count: entries * 16)
        regions = (0..<entries).map { i in
            let bytes = StorageBytes(Array(prdt[(i * 16)..<(i * 16 + 16)]))
            // DBC is the byte count minus one, always even (bit 0 reads as 1).
            return (bytes.le64(0), Int(bytes.le32(12) & 0x3F_FFFF | 1) + 1)
        }
    }

    var isRegisterH2D: Bool { fis[0] == 0x27 && fis[1] & 0x80 != 0 }
    var command: UInt8 { fis[2] }
    var features: UInt16 { UInt16(fis[3]) | UInt16(fis[11]) << 8 }
    var count: UInt16 { UInt16(fis[12]) | UInt16(fis[13]) << 8 }
    var device: UInt8 { fis[7] }
    var lba48: UInt64 {
        [4, 5, 6, 8, 9, 10].enumerated().reduce(UInt64(0)) { $0 | UInt64(fis[$1.element]) << UInt64(8 * $1.offset) }
    }
    var lba28: UInt64 { lba48 & 0xFF_FFFF | UInt64(device & 0x0F) << 24 }
    /// READ/WRITE FPDMA QUEUED: the tag sits in count bits 7:3, the sector count in features.
    var isQueued: Bool { command == 0x60 || command == 0x61 }
    var tag: Int { Int(fis[12] >> 3) }

    /// Total bytes the PRDT describes.
    var capacity: Int { regions.reduce(0) { $0 + $1.count } }

    /// Copies the first `buffer.count` bytes the PRDT describes into `buffer` (guest to host).
    func gather(_ memory: MemoryMap, into buffer: UnsafeMutableRawBufferPointer) throws(DMAError) {
        try forEachRegion(buffer.count) { (address, range) throws(DMAError) in
            try memory.dmaRead(address, into: UnsafeMutableRawBufferPointer(rebasing: buffer[range]))
        }
    }

    /// Copies `buffer` into the PRDT's regions (host to guest).
    func scatter(_ memory: MemoryMap, from buffer: UnsafeRawBufferPointer) throws(DMAError) {
        try forEachRegion(buffer.count) { (address, range) throws(DMAError) in
            try memory.dmaWrite(address, from: UnsafeRawBufferPointer(rebasing: buffer[range]))
        }
    }

    private func forEachRegion(_ total: Int, _ body: (UInt64, Range<Int>) throws(DMAError) -> Void) throws(DMAError) {
        var done = 0
        for region in regions where done < total {
            let n = min(region.count, total - done)
            try body(region.address, done..<(done + n))
            done += n
        }
    }
}
