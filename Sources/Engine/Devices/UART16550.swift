/// National Semiconductor 16550A UART (COM1 0x3F8/IRQ4, COM2 0x2F8/IRQ3): divisor latch,
/// 16-byte FIFOs, line/modem status, and the interrupt identification priorities. The host
/// side is a byte sink (`onTransmit`) and `receive(_:)`; loopback mode echoes internally.
public final class UART16550: PortDevice {
    public let base: UInt16
    private let irq: IRQLine
    private var receiveFIFO: [UInt8] = []
    private var ier: UInt8 = 0
    private var lcr: UInt8 = 0
    private var mcr: UInt8 = 0
    private var scratch: UInt8 = 0
    private var divisor: UInt16 = 12
    private var fifoEnabled = false
    private var triggerLevel = 1
    private var transmitterEmptyPending = false
    private var lineStatusErrors: UInt8 = 0
    private var irqLevel = false
    /// Bytes the guest sends.
    public var onTransmit: (UInt8) -> Void = { _ in }

    static let fifoSize = 16
    /// Host input held beyond the FIFO until the guest makes room.
    private var backlog: [UInt8] = []

    public init(base: UInt16, irq: IRQLine) {
        self.base = base
        self.irq = irq
    }

    public var portRange: ClosedRange<UInt16> { base...(base + 7) }

    public func reset() {
        receiveFIFO = []
        backlog = []
        ier = 0; lcr = 0; mcr = 0; scratch = 0; divisor = 12
        fifoEnabled = false; triggerLevel = 1
        transmitterEmptyPending = false; lineStatusErrors = 0
        updateIRQ()
    }

    /// Bytes from the host (the serial view, --serial stdio) for the guest to read.
    public func receive(_ bytes: [UInt8]) {
        backlog += bytes
        fillFIFO()
        updateIRQ()
    }

    private func fillFIFO() {
        let capacity = fifoEnabled ? UART16550.fifoSize : 1
        while receiveFIFO.count < capacity, !backlog.isEmpty {
            receiveFIFO.append(backlog.removeFirst())
        }
    }

    private var dlab: Bool { lcr & 0x80 != 0 }

    private var lineStatus: UInt8 {
        var s: UInt8 = 0x60 | lineStatusErrors // THR and transmitter empty: we send instantly
        if !receiveFIFO.isEmpty { s |= 0x01 }
        return s
    }

    /// Interrupt identification: line status > received data > THR empty > modem status.
    private var interruptID: UInt8 {
        if ier & 0x04 != 0 && lineStatusErrors != 0 { return 0x06 }
        if ier & 0x01 != 0 && receiveFIFO.count >= (fifoEnabled ? triggerLevel : 1) { return 0x04 }
        if ier & 0x01 != 0 && !receiveFIFO.isEmpty && fifoEnabled { return 0x0C } // character timeout
        if ier & 0x02 != 0 && transmitterEmptyPending { return 0x02 }
        return 0x01
    }

    private func updateIRQ() {
        // OUT2 gates the interrupt onto the ISA bus on PCs.
        let level = interruptID & 1 == 0 && mcr & 0x08 != 0
        if level != irqLevel {
            irqLevel = level
            irq.set(level)
        }
    }

    public func portRead(_ port: UInt16, width: Int) -> UInt32 {
        var value: UInt8
        switch port - base {
        case 0:
            if dlab { value = UInt8(divisor & 0xFF); break }
            value = receiveFIFO.isEmpty ? 0 : receiveFIFO.removeFirst()
            fillFIFO()
        case 1: value = dlab ? UInt8(divisor >> 8) : ier
        case 2:
            value = interruptID | (fifoEnabled ? 0xC0 : 0)
            if value & 0x0F == 0x02 { transmitterEmptyPending = false }
        case 3: value = lcr
        case 4: value = mcr
        case 5:
            value = lineStatus
            lineStatusErrors = 0
        case 6:
            // Loopback wires DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD; otherwise report a
            // connected line (DCD, DSR, CTS).
            value = mcr & 0x10 != 0 ? (mcr & 0x01) << 5 | (mcr & 0x02) << 3 | (mcr & 0x04) << 4 | (mcr & 0x08) << 4 : 0xB0
        default: value = scratch
        }
        updateIRQ()
        return UInt32(value)
    }

    public func portWrite(_ port: UInt16, width: Int, value: UInt32) {
        let byte = UInt8(value & 0xFF)
        switch port - base {
        case 0:
            if dlab { divisor = (divisor & 0xFF00) | UInt16(byte); break }
            if mcr & 0x10 != 0 {
                backlog.append(byte)
                fillFIFO()
            } else {
                onTransmit(byte)
            }
            transmitterEmptyPending = true
        case 1:
            if dlab { divisor = (divisor & 0x00FF) | UInt16(byte) << 8; break }
            // Enabling the THR interrupt with an empty THR reports it at once.
            if byte & 0x02 != 0 && ier & 0x02 == 0 { transmitterEmptyPending = true }
            ier = byte & 0x0F
        case 2:
            fifoEnabled = byte & 0x01 != 0
            if byte & 0x02 != 0 { receiveFIFO = [] }
            triggerLevel = [1, 4, 8, 14][Int(byte >> 6)]
            fillFIFO()
        case 3: lcr = byte
        case 4: mcr = byte & 0x1F
        case 7: scratch = byte
        default: break
        }
        updateIRQ()
    }
}
