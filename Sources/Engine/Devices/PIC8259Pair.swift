/// The PC/AT master/slave 8259A pair (ports 0x20/0x21, 0xA0/0xA1, slave on master IR2) and
/// the PIIX3 edge/level control registers ELCR1/2 at 0x4D0/0x4D1 (a level-triggered IRQ stays
/// requested while its input is high, through EOIs). The PIIX3 drives its inputs
/// (InterruptController: ISA lines and steered PIRQs); it is the CPU's InterruptAcknowledge.
public final class PIC8259Pair: PortDevice, InterruptController, InterruptAcknowledge {
    let master = PIC8259(isMaster: true)
    let slave = PIC8259(isMaster: false)
    private var elcr: (UInt8, UInt8) = (0, 0)
    /// Called with the new level whenever INTR (the master's INT output) changes: the CPU side
    /// is pushed every change instead of polling.
    public var onOutputChange: ((Bool) -> Void)?
    private var output = false

    public init() {}

    /// Tells the listener when INTR moved; called after everything that can move it.
    private func updateOutput() {
        let level = master.pendingLine() != nil
        guard level != output else { return }
        output = level
        onOutputChange?(level)
    }

    public func reset() {
        master.reset()
        slave.reset()
        elcr = (0, 0)
        master.levelTriggered = 0
        slave.levelTriggered = 0
        updateOutput()
    }

    public func setIRQ(_ irq: Int, level: Bool) {
        if irq < 8 {
            master.setInput(irq, level: level)
        } else {
            slave.setInput(irq - 8, level: level)
            cascade()
        }
        updateOutput()
    }

    /// The slave's INT output drives master IR2.
    private func cascade() {
        master.setInput(2, level: slave.pendingLine() != nil)
    }

    public var interruptPending: Bool { master.pendingLine() != nil }

    public func acknowledgeInterrupt() -> UInt8 {
        defer { updateOutput() }
        guard let line = master.pendingLine() else { return master.spuriousVector() }
        if line == 2 {
            _ = master.acknowledge(2)
            guard let slaveLine = slave.pendingLine() else { return slave.spuriousVector() }
            let slaveVector = slave.acknowledge(slaveLine)
            cascade()
            return slaveVector
        }
        return master.acknowledge(line)
    }

    /// Whether `irq` is requested (IRR), for tests.
    public func isRequested(_ irq: Int) -> Bool {
        irq < 8 ? master.irr & (1 << UInt8(irq)) != 0 : slave.irr & (1 << UInt8(irq - 8)) != 0
    }

    public var masks: (master: UInt8, slave: UInt8) { (master.imr, slave.imr) }

    public func portRead(_ port: UInt16, width: Int) -> UInt32 {
        defer { updateOutput() } // a poll-mode read acknowledges
        switch port {
        case 0x20, 0x21: return UInt32(master.read(port == 0x21))
        case 0xA0, 0xA1:
            let value = slave.read(port == 0xA1)
            cascade()
            return UInt32(value)
        case 0x4D0: return UInt32(elcr.0)
        case 0x4D1: return UInt32(elcr.1)
        default: return PortMap.allOnes(width)
        }
    }

    public func portWrite(_ port: UInt16, width: Int, value: UInt32) {
        defer { updateOutput() }
        let byte = UInt8(value & 0xFF)
        switch port {
        case 0x20, 0x21: master.write(port == 0x21, byte)
        case 0xA0, 0xA1:
            slave.write(port == 0xA1, byte)
            cascade()
        case 0x4D0:
            elcr.0 = byte & 0xF8 // IRQ0-2 are always edge
            master.levelTriggered = elcr.0
        case 0x4D1:
            elcr.1 = byte & 0xDE // IRQ8 and IRQ13 are always edge
            slave.levelTriggered = elcr.1
            cascade()
        default: break
        }
    }
}
