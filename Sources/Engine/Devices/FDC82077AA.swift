/// Intel 82077AA floppy disk controller at 0x3F0-0x3F5/0x3F7 with drive A (PLATFORM-NOTES
/// §4.6): DOR reset with four SENSE INTERRUPT replies, the MSR handshake (0x80 idle, 0x90
/// command, 0xD0 result), SPECIFY, RECALIBRATE, SEEK, READ ID, READ/WRITE DATA through DMA
/// channel 2, IRQ6. Commands complete at once: the IRQ is latched by the PIC until the guest
/// takes it.
public final class FDC82077AA: PortDevice {
    public struct Drive {
        public var disk: BlockDevice?
        public var geometry: FloppyGeometry?
        var cylinder = 0
    }

    public private(set) var driveA = Drive()
    private let dma: DMA8237
    private let irq6: IRQLine
    static let dmaChannel = 2

    private var dor: UInt8 = 0
    private var command: [UInt8] = []
    private var expectedLength = 0
    private var result: [UInt8] = []
    private var resetSensesPending = 0
    private var interruptStatus: UInt8?
    private var dataRate: UInt8 = 0

    public init(dma: DMA8237, irq6: IRQLine) {
        self.dma = dma
        self.irq6 = irq6
    }

    /// Inserts a floppy image into drive A (nil ejects).
    public func insert(_ disk: BlockDevice?) {
        driveA.disk = disk
        driveA.geometry = disk.flatMap { FloppyGeometry.forImage(size: $0.size) }
    }

    public func reset() {
        dor = 0
        command = []
        result = []
        resetSensesPending = 0
        interruptStatus = nil
        driveA.cylinder = 0
        irq6.lower()
    }

    private var mainStatus: UInt8 {
        if !result.isEmpty { return 0xD0 }
        if !command.isEmpty { return 0x90 }
        return 0x80
    }

    public func portRead(_ port: UInt16, width: Int) -> UInt32 {
        switch port {
        case 0x3F2: return UInt32(dor)
        case 0x3F4: return UInt32(mainStatus)
        case 0x3F5:
            guard !result.isEmpty else { return 0xFF }
            return UInt32(result.removeFirst())
        case 0x3F7: return 0x00 // no disk change
        default: return 0xFF
        }
    }

    public func portWrite(_ port: UInt16, width: Int, value: UInt32) {
        let byte = UInt8(value & 0xFF)
        switch port {
        case 0x3F2:
            let leavingReset = dor & 0x04 == 0 && byte & 0x04 != 0
            dor = byte
            if byte & 0x04 == 0 {
                command = []
                result = []
            } else if leavingReset {
                resetSensesPending = 4
                interruptStatus = nil
                raiseInterrupt()
            }
        case 0x3F4:
            if byte & 0x80 != 0 { // DSR software reset
                resetSensesPending = 4
                raiseInterrupt()
            }
            dataRate = byte & 3
        case 0x3F5: writeFIFO(byte)
        case 0x3F7: dataRate = byte & 3
        default: break
        }
    }

    private func raiseInterrupt() {
        if dor & 0x08 != 0 { irq6.raise() }
    }

    /// Parameter bytes each command takes, including the command byte; nil: invalid.
    private static func length(of command: UInt8) -> Int? {
        switch command & 0x1F {
        case 0x03: return 3 // SPECIFY
        case 0x04: return 2 // SENSE DRIVE STATUS
        case 0x05, 0x06, 0x0C, 0x09, 0x11, 0x19, 0x1D: return 9 // WRITE/READ DATA (+deleted), SCAN
        case 0x07: return 2 // RECALIBRATE
        case 0x08: return 1 // SENSE INTERRUPT STATUS
        case 0x0A: return 2 // READ ID
        case 0x0D: return 6 // FORMAT TRACK
        case 0x0E, 0x10, 0x14, 0x18: return 1 // DUMPREG, VERSION, LOCK, PART ID
        case 0x0F: return 3 // SEEK
        case 0x12: return 2 // PERPENDICULAR MODE
        case 0x13: return 4 // CONFIGURE
        default: return nil
        }
    }

    private func writeFIFO(_ byte: UInt8) {
        guard result.isEmpty else { return }
        if command.isEmpty {
            guard let length = FDC82077AA.length(of: byte) else {
                result = [0x80] // invalid command
                return
            }
            expectedLength = length
            if byte & 0x1F != 0x08 { irq6.lower() }
        }
        command.append(byte)
        if command.count == expectedLength {
            let bytes = command
            command = []
            execute(bytes)
        }
    }

    private func execute(_ c: [UInt8]) {
        let drive = Int(c.count > 1 ? c[1] & 3 : 0)
        let head = Int(c.count > 1 ? (c[1] >> 2) & 1 : 0)
        switch c[0] & 0x1F {
        case 0x03, 0x12, 0x13: break // timings, perpendicular mode, FIFO configuration: nothing to model
        case 0x04:
            result = [0x20 | (driveA.cylinder == 0 ? 0x10 : 0) | UInt8(head << 2) | UInt8(drive)
                      | (driveA.disk?.isReadOnly ?? false ? 0x40 : 0)]
        case 0x07:
            if drive == 0 { driveA.cylinder = 0 }
            completeSeek(drive: drive, head: 0, ok: drive == 0)
        case 0x0F:
            if drive == 0 { driveA.cylinder = Int(c[2]) }
            completeSeek(drive: drive, head: head, ok: drive == 0)
        case 0x08:
            if resetSensesPending > 0 {
                let polled = 4 - resetSensesPending
                resetSensesPending -= 1
                result = [0xC0 | UInt8(polled), UInt8(polled == 0 ? driveA.cylinder : 0)]
            } else if let st0 = interruptStatus {
                interruptStatus = nil
                result = [st0, UInt8(driveA.cylinder)]
            } else {
                result = [0x80]
            }
            irq6.lower()
        case 0x0A: readID(drive: drive, head: head)
        case 0x05, 0x06: transfer(c, write: c[0] & 0x1F == 0x05)
        case 0x0E:
            result = [UInt8(driveA.cylinder), 0, 0, 0, 0xAF, 0x02, 18, 0, 0, 0]
        case 0x10: result = [0x90]
        case 0x14: result = [(c[0] & 0x80) >> 3]
        case 0x18: result = [0x41]
        default: // FORMAT, SCAN, deleted data: not supported by this model
            result = [0x40 | UInt8(head << 2) | UInt8(drive), 0x01, 0x00, 0, 0, 0, 2]
            raiseInterrupt()
        }
    }

    private func completeSeek(drive: Int, head: Int, ok: Bool) {
        interruptStatus = (ok ? 0x20 : 0x70) | UInt8(head << 2) | UInt8(drive)
        raiseInterrupt()
    }

    private func readID(drive: Int, head: Int) {
        let st0 = UInt8(head << 2) | UInt8(drive)
        if drive != 0 || driveA.geometry == nil || dataRate != 0 && driveA.geometry!.sectorsPerTrack >= 18 {
            result = [0x40 | st0, 0x01, 0x00, UInt8(driveA.cylinder), UInt8(head), 1, 2]
        } else {
            result = [st0, 0x00, 0x00, UInt8(driveA.cylinder), UInt8(head), 1, 2]
        }
        raiseInterrupt()
    }

    /// READ DATA / WRITE DATA: sectors from (C, H, R) up to EOT (and side 1 with MT), as many
    /// as DMA channel 2 is programmed for.
    private func transfer(_ c: [UInt8], write: Bool) {
        let drive = Int(c[1] & 3)
        var cyl = Int(c[2]), head = Int(c[3]), sector = Int(c[4])
        let sizeCode = c[5], eot = Int(c[6])
        let multiTrack = c[0] & 0x80 != 0
        var st0 = UInt8(head << 2) | UInt8(drive)
        var st1: UInt8 = 0
        let st2: UInt8 = 0
        func finish() {
            result = [st0, st1, st2, UInt8(cyl & 0xFF), UInt8(head), UInt8(sector), sizeCode]
            raiseInterrupt()
        }
        guard drive == 0, let disk = driveA.disk, let g = driveA.geometry, sizeCode == 2 else {
            st0 |= 0x40
            st1 = 0x01 // missing address mark
            return finish()
        }
        if write && disk.isReadOnly {
            st0 |= 0x40
            st1 = 0x02
            return finish()
        }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 512, alignment: 16)
        defer { buffer.deallocate() }
        while dma.remaining(channel: FDC82077AA.dmaChannel) >= 512 {
            guard cyl < g.cylinders, head < g.heads, sector >= 1, sector <= g.sectorsPerTrack else {
                st0 |= 0x40
                st1 = 0x04 // no data
                return finish()
            }
            let offset = UInt64(((cyl * g.heads + head) * g.sectorsPerTrack + sector - 1) * 512)
            do {
                if write {
                    guard dma.transfer(channel: FDC82077AA.dmaChannel, direction: .fromMemory, buffer: buffer) == 512 else { break }
                    try disk.write(at: offset, from: UnsafeRawBufferPointer(buffer))
                } else {
                    try disk.read(at: offset, into: buffer)
                    guard dma.transfer(channel: FDC82077AA.dmaChannel, direction: .toMemory, buffer: buffer) == 512 else { break }
                }
            } catch {
                st0 |= 0x40
                st1 = 0x20 // data error
                return finish()
            }
            driveA.cylinder = cyl
            let lastOfTrack = sector >= eot
            sector += 1
            if lastOfTrack {
                sector = 1
                if multiTrack && head == 0 {
                    head = 1
                } else {
                    if multiTrack { head = 0 }
                    cyl += 1
                    break
                }
            }
        }
        st0 = (st0 & ~0x04) | UInt8(head << 2)
        finish()
    }
}
