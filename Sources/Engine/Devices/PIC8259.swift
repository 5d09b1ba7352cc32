/// One Intel 8259A programmable interrupt controller: IRR/ISR/IMR, the ICW1-4 init
/// sequence, OCW2 EOIs and rotation, OCW3 register select and poll. `PIC8259Pair` cascades two.
public final class PIC8259 {
    public private(set) var irr: UInt8 = 0
    public private(set) var isr: UInt8 = 0
    public private(set) var imr: UInt8 = 0
    public private(set) var vectorBase: UInt8 = 0
    /// Level-triggered inputs (ELCR bits); the others latch rising edges.
    var levelTriggered: UInt8 = 0 {
        // A line made level-triggered requests exactly while its input is high.
        didSet { irr = (irr & ~levelTriggered) | (inputs & levelTriggered) }
    }
    private var inputs: UInt8 = 0
    private var initStep = 0
    private var needICW4 = false
    private var singleMode = false
    private var autoEOI = false
    private var readISR = false
    private var pollPending = false
    private var specialMask = false
    private var rotateOnAutoEOI = false
    /// Lowest-priority IRQ + 1 (priority rotation); 0 means IR0 is highest.
    private var priorityBase = 0
    let isMaster: Bool

    init(isMaster: Bool) { self.isMaster = isMaster }

    func reset() {
        irr = 0; isr = 0; imr = 0; vectorBase = 0; inputs = 0
        initStep = 0; needICW4 = false; singleMode = false; autoEOI = false
        readISR = false; pollPending = false; specialMask = false; rotateOnAutoEOI = false
        priorityBase = 0
    }

    /// Drives input line `line` (0-7).
    func setInput(_ line: Int, level: Bool) {
        let bit = UInt8(1) << UInt8(line)
        if level {
            if levelTriggered & bit != 0 || inputs & bit == 0 { irr |= bit }
            inputs |= bit
        } else {
            inputs &= ~bit
            if levelTriggered & bit != 0 { irr &= ~bit }
        }
    }

    /// The highest-priority requested, unmasked line that outranks everything in service.
    func pendingLine() -> Int? {
        let requests = irr & ~imr
        guard requests != 0 else { return nil }
        for i in 0..<8 {
            let line = (i + priorityBase) & 7
            let bit = UInt8(1) << UInt8(line)
            if isr & bit != 0 && !specialMask { return nil }
            if requests & bit != 0 { return line }
        }
        return nil
    }

    /// INTA for `line`: moves it from IRR to ISR (edge inputs) and returns the vector.
    func acknowledge(_ line: Int) -> UInt8 {
        let bit = UInt8(1) << UInt8(line)
        if levelTriggered & bit == 0 { irr &= ~bit }
        if autoEOI {
            if rotateOnAutoEOI { priorityBase = (line + 1) & 7 }
        } else {
            isr |= bit
        }
        return vectorBase &+ UInt8(line)
    }

    /// A spurious acknowledge (the request went away): IR7's vector, nothing put in service.
    func spuriousVector() -> UInt8 { vectorBase &+ 7 }

    func read(_ a0: Bool) -> UInt8 {
        if pollPending {
            pollPending = false
            if let line = pendingLine() {
                _ = acknowledge(line)
                return 0x80 | UInt8(line)
            }
            return 0
        }
        if a0 { return imr }
        return readISR ? isr : irr
    }

    func write(_ a0: Bool, _ value: UInt8) {
        if !a0 && value & 0x10 != 0 { // ICW1
            initStep = 2
            needICW4 = value & 0x01 != 0
            singleMode = value & 0x02 != 0
            imr = 0; isr = 0; irr = 0; priorityBase = 0; autoEOI = false
            readISR = false; specialMask = false
            return
        }
        if a0 {
            switch initStep {
            case 2:
                vectorBase = value & 0xF8
                initStep = singleMode ? (needICW4 ? 4 : 0) : 3
            case 3:
                initStep = needICW4 ? 4 : 0
            case 4:
                autoEOI = value & 0x02 != 0
                initStep = 0
            default:
                imr = value
            }
            return
        }
        if value & 0x08 == 0 { writeOCW2(value) } else { writeOCW3(value) }
    }

    private func writeOCW2(_ value: UInt8) {
        let command = value >> 5
        switch command {
        case 0b001, 0b101: // non-specific EOI (with rotation)
            guard let line = highestInService() else { return }
            isr &= ~(UInt8(1) << UInt8(line))
            if command == 0b101 { priorityBase = (line + 1) & 7 }
        case 0b011, 0b111: // specific EOI (with rotation)
            let line = Int(value & 7)
            isr &= ~(UInt8(1) << UInt8(line))
            if command == 0b111 { priorityBase = (line + 1) & 7 }
        case 0b100: rotateOnAutoEOI = true
        case 0b000: rotateOnAutoEOI = false
        case 0b110: priorityBase = (Int(value & 7) + 1) & 7 // set priority
        default: break
        }
    }

    private func writeOCW3(_ value: UInt8) {
        if value & 0x04 != 0 { pollPending = true }
        if value & 0x02 != 0 { readISR = value & 0x01 != 0 }
        if value & 0x40 != 0 { specialMask = value & 0x20 != 0 }
    }

    private func highestInService() -> Int? {
        for i in 0..<8 {
            let line = (i + priorityBase) & 7
            if isr & (UInt8(1) << UInt8(line)) != 0 { return line }
        }
        return nil
    }
}
