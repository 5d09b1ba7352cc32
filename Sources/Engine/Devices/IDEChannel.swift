/// One IDE (ATA) channel: the task file at base..base+7 and the control block port (alt
/// status / device control), two drive slots, PIO data through a buffer, bus-master DMA
/// through the PIIX3's PRD tables, and the IRQ (14 primary, 15 secondary). An empty slot
/// reads 0 in every register, as QEMU does, so SeaBIOS skips it at once (§4.7).
public final class IDEChannel: PortDevice {
    public static let busy: UInt8 = 0x80, ready: UInt8 = 0x40, seekComplete: UInt8 = 0x10
    public static let dataRequest: UInt8 = 0x08, errorBit: UInt8 = 0x01
    public static let abortedCommand: UInt8 = 0x04

    public let base: UInt16
    public let controlPort: UInt16
    private let irq: IRQLine
    let memory: MemoryMap
    /// Where the drives count the bytes they move between their medium and the guest.
    let ioCounters: IOCounters
    public private(set) var drives: [IDEDrive?] = [nil, nil]
    /// Bit n set when slot n holds a drive: lets the data port skip the drive lookup per word.
    private var filledSlots = 0

    // Task file; "previous" halves for LBA48 (HOB).
    public var features: UInt8 = 0
    public var sectorCount: UInt16 = 0
    public var lbaLow: UInt16 = 0, lbaMid: UInt16 = 0, lbaHigh: UInt16 = 0
    public var device: UInt8 = 0
    public var status: UInt8 = 0
    public var error: UInt8 = 0
    private var control: UInt8 = 0
    private var irqPending = false

    // PIO transfer.
    public private(set) var buffer: [UInt8] = []
    private var bufferIndex = 0
    private var writing = false

    // Bus master (PIIX3 BAR4 registers of this channel).
    var busMasterCommand: UInt8 = 0
    var busMasterStatus: UInt8 = 0
    var prdTable: UInt32 = 0
    /// A DMA command waiting for the bus master to start: direction and the drive's data hook.
    private var pendingDMA: (toMemory: Bool, run: (inout [UInt8]) -> Bool)?

    public init(base: UInt16, controlPort: UInt16, irq: IRQLine, memory: MemoryMap, ioCounters: IOCounters = IOCounters()) {
        self.base = base
        self.controlPort = controlPort
        self.irq = irq
        self.memory = memory
        self.ioCounters = ioCounters
    }

    public func attach(_ drive: IDEDrive, slot: Int) {
        drives[slot] = drive
        filledSlots |= 1 << slot
    }

    public var selectedSlot: Int { Int(device >> 4) & 1 }
    var selected: IDEDrive? { drives[selectedSlot] }

    public func reset() {
        features = 0; sectorCount = 0; lbaLow = 0; lbaMid = 0; lbaHigh = 0
        device = 0; error = 0; control = 0
        buffer = []; bufferIndex = 0; writing = false; pendingDMA = nil
        busMasterCommand = 0; busMasterStatus &= 0x60; prdTable = 0
        softReset()
    }

    private func softReset() {
        status = drives.contains { $0 != nil } ? (IDEChannel.ready | IDEChannel.seekComplete) : 0
        error = 0x01 // diagnostic: no error
        if let d = drives[0] ?? drives[1] {
            let sig = d.signature
            sectorCount = UInt16(sig.count); lbaLow = UInt16(sig.lbaLow)
            lbaMid = UInt16(sig.lbaMid); lbaHigh = UInt16(sig.lbaHigh)
            if d.isPacketDevice { status = 0 }
        }
        buffer = []
        setIRQ(false)
    }

    // MARK: Drive-facing API

    private var hob: Bool { control & 0x80 != 0 }

    /// The 28- or 48-bit LBA and the sector count of the current command.
    public func lba(extended: Bool) -> UInt64 {
        if extended {
            return UInt64(lbaLow & 0xFF) | UInt64(lbaMid & 0xFF) << 8 | UInt64(lbaHigh & 0xFF) << 16
                | UInt64(lbaLow >> 8) << 24 | UInt64(lbaMid >> 8) << 32 | UInt64(lbaHigh >> 8) << 40
        }
        return UInt64(lbaLow & 0xFF) | UInt64(lbaMid & 0xFF) << 8 | UInt64(lbaHigh & 0xFF) << 16 | UInt64(device & 0x0F) << 24
    }

    public func count(extended: Bool) -> Int {
        if extended { return sectorCount == 0 ? 65536 : Int(sectorCount) }
        let c = Int(sectorCount & 0xFF)
        return c == 0 ? 256 : c
    }

    /// Writes the LBA back into the task file (after a transfer, or on error).
    public func setLBA(_ lba: UInt64, extended: Bool) {
        if extended {
            lbaLow = UInt16(lba & 0xFF) | UInt16((lba >> 24) & 0xFF) << 8
            lbaMid = UInt16((lba >> 8) & 0xFF) | UInt16((lba >> 32) & 0xFF) << 8
            lbaHigh = UInt16((lba >> 16) & 0xFF) | UInt16((lba >> 40) & 0xFF) << 8
        } else {
            lbaLow = UInt16(lba & 0xFF); lbaMid = UInt16((lba >> 8) & 0xFF); lbaHigh = UInt16((lba >> 16) & 0xFF)
            device = (device & 0xF0) | UInt8((lba >> 24) & 0x0F)
        }
    }

    /// Offers `data` to the host (DRQ) and interrupts.
    public func startPIORead(_ data: [UInt8]) {
        buffer = data
        bufferIndex = 0
        writing = false
        status = IDEChannel.ready | IDEChannel.seekComplete | IDEChannel.dataRequest
        setIRQ(true)
    }

    /// Asks the host for `bytes` (DRQ); `interrupt` is false for the first block of a write.
    public func startPIOWrite(bytes: Int, interrupt: Bool) {
        buffer = [UInt8](repeating: 0, count: bytes)
        bufferIndex = 0
        writing = true
        status = IDEChannel.ready | IDEChannel.seekComplete | IDEChannel.dataRequest
        if interrupt { setIRQ(true) }
    }

    /// Queues a DMA transfer; it runs when the bus master's start bit is (or gets) set. `run`
    /// reads the drive into the buffer (to memory) or consumes it (from memory).
    public func startDMA(toMemory: Bool, bytes: Int, run: @escaping (inout [UInt8]) -> Bool) {
        buffer = [UInt8](repeating: 0, count: bytes)
        status = IDEChannel.ready | IDEChannel.seekComplete | IDEChannel.dataRequest
        pendingDMA = (toMemory, run)
        if busMasterCommand & 1 != 0 { runDMA() }
    }

    public func complete() {
        buffer = []
        status = IDEChannel.ready | IDEChannel.seekComplete
        setIRQ(true)
    }

    public func abort(error code: UInt8 = IDEChannel.abortedCommand) {
        buffer = []
        error = code
        status = IDEChannel.ready | IDEChannel.seekComplete | IDEChannel.errorBit
        setIRQ(true)
    }

    private func setIRQ(_ on: Bool) {
        irqPending = on
        if on { busMasterStatus |= 0x04 }
        irq.set(on && control & 0x02 == 0)
    }

    // MARK: Bus master

    func busMasterWrite(command value: UInt8) {
        let starting = value & 1 != 0 && busMasterCommand & 1 == 0
        busMasterCommand = value & 0x09
        if value & 1 == 0 { busMasterStatus &= ~0x01 }
        if starting {
            busMasterStatus |= 0x01
            if pendingDMA != nil { runDMA() }
        }
    }

    /// Walks the PRD table: {u32 address, u16 bytes (0 = 64 KiB), bit 15 of the top word: last}.
    private func runDMA() {
        guard let dma = pendingDMA else { return }
        pendingDMA = nil
        var data = buffer
        if dma.toMemory {
            guard dma.run(&data) else { busMasterStatus &= ~0x01; return }
        }
        var offset = 0
        var entry = prdTable & ~3
        while offset < data.count {
            let address = memory.read(entry, width: 4) & ~1
            let word = memory.read(entry + 4, width: 4)
            var length = Int(word & 0xFFFF)
            if length == 0 { length = 0x10000 }
            let n = min(length, data.count - offset)
            if dma.toMemory {
                data[offset..<(offset + n)].withUnsafeBytes { memory.writeBytes(at: address, from: $0) }
            } else {
                data.withUnsafeMutableBytes { memory.readBytes(at: address, into: UnsafeMutableRawBufferPointer(rebasing: $0[offset..<(offset + n)])) }
            }
            offset += n
            if word & 0x8000_0000 != 0 { break }
            entry += 8
        }
        if !dma.toMemory {
            guard dma.run(&data) else { busMasterStatus &= ~0x01; return }
        }
        finishDMA()
    }

    /// The bus master is done and the command completes (also when a held write finally lands).
    public func finishDMA() {
        busMasterStatus &= ~0x01
        complete()
    }

    // MARK: Ports

    public func portRead(_ port: UInt16, width: Int) -> UInt32 {
        guard filledSlots & (1 << selectedSlot) != 0 else { return 0 }
        if port == base { return readData(width: width) }
        if port == controlPort { return UInt32(status) }
        switch port - base {
        case 1: return UInt32(hob ? 0 : error)
        case 2: return UInt32(hob ? sectorCount >> 8 : sectorCount & 0xFF)
        case 3: return UInt32(hob ? lbaLow >> 8 : lbaLow & 0xFF)
        case 4: return UInt32(hob ? lbaMid >> 8 : lbaMid & 0xFF)
        case 5: return UInt32(hob ? lbaHigh >> 8 : lbaHigh & 0xFF)
        case 6: return UInt32(device)
        default:
            setIRQ(false) // reading status acknowledges the interrupt
            return UInt32(status)
        }
    }

    /// The data port, once per word of a PIO transfer: kept to a few accesses (it is hot while
    /// boot loaders read the disk or CD through the BIOS).
    private func readData(width: Int) -> UInt32 {
        let start = bufferIndex
        let end = min(start + width, buffer.count)
        guard !writing, start < end else { return 0 }
        let value = buffer.withUnsafeBufferPointer { bytes in
            var v: UInt32 = 0
            for i in start..<end { v |= UInt32(bytes[i]) << UInt32(8 * (i - start)) }
            return v
        }
        bufferIndex = end
        if end == buffer.count {
            status &= ~IDEChannel.dataRequest
            buffer = []
            bufferIndex = 0
            selected?.pioReadFinished(on: self)
        }
        return value
    }

    public func portWrite(_ port: UInt16, width: Int, value: UInt32) {
        let byte = UInt8(value & 0xFF)
        if port == controlPort {
            if byte & 0x04 != 0 && control & 0x04 == 0 { softReset() }
            control = byte
            irq.set(irqPending && control & 0x02 == 0)
            return
        }
        // Writing any task-file register clears HOB.
        if port - base != 0 { control &= ~0x80 }
        switch port - base {
        case 0:
            guard writing, bufferIndex < buffer.count, let drive = selected else { return }
            for i in 0..<width where bufferIndex < buffer.count {
                buffer[bufferIndex] = UInt8(truncatingIfNeeded: value >> UInt32(8 * i))
                bufferIndex += 1
            }
            if bufferIndex >= buffer.count {
                status &= ~IDEChannel.dataRequest
                writing = false
                drive.pioWriteFinished(on: self)
            }
        case 1: features = byte
        case 2: sectorCount = sectorCount << 8 | UInt16(byte)
        case 3: lbaLow = lbaLow << 8 | UInt16(byte)
        case 4: lbaMid = lbaMid << 8 | UInt16(byte)
        case 5: lbaHigh = lbaHigh << 8 | UInt16(byte)
        case 6: device = byte
        default:
            guard let drive = selected else { return }
            setIRQ(false)
            error = 0
            drive.execute(byte, on: self)
        }
    }
}
