/// Intel 82371SB (PIIX3) PCI-to-ISA bridge, PCI 00:01.0, and its reset control register at
/// 0xCF9. Header type 0x80 (multi-function) is what makes SeaBIOS look at 01.1 and 01.3.
/// As the interrupt router's PIC-side sink it drives the 8259 pair: ISA GSIs 0-15 straight
/// through, PCI PIRQA-D (GSIs 16-19) onto the ISA IRQ their route register (0x60-0x63) names,
/// wire-ORed with that IRQ's own line; the IOAPIC, when there is one, gets the same levels
/// (QEMU's PIIX3 drives ISA IRQ n to both the 8259 and IOAPIC input n).
public final class PIIX3ISA: PortDevice, PCIFunction, InterruptSink {
    public let config = PCIConfigSpace(vendor: 0x8086, device: 0x7000, revision: 0x00, classCode: 0x06_01_00, headerType: 0x80)
    private var resetControl: UInt8 = 0
    /// The 8259 pair this bridge feeds.
    public var pic: InterruptController?
    public var ioapic: InterruptController?
    private var isaLevels = [Bool](repeating: false, count: 16)
    private var pirqLevels = [Bool](repeating: false, count: 4)
    /// What each PIC input was last driven to.
    private var picLevels = [Bool](repeating: false, count: 16)
    /// Asked for a system reset (bit 2 of 0xCF9 rising).
    public var onReset: () -> Void = {}

    public init() {
        config.makeWritable(0x40..<0x100)
        reset()
    }

    /// Power-on values of the device registers (82371SB datasheet; what QEMU's PIIX3 shows):
    /// ISA I/O recovery, X-bus chip selects, PIRQ A-D routing disabled, top of memory,
    /// motherboard IRQ/DMA disabled, APIC chip select, SMI enables.
    static let registerDefaults: [(Int, UInt8)] = [
        (0x4C, 0x4D), (0x4E, 0x03), (0x60, 0x80), (0x61, 0x80), (0x62, 0x80), (0x63, 0x80),
        (0x69, 0x02), (0x70, 0x80), (0x76, 0x0C), (0x77, 0x0C), (0x78, 0x02), (0xA0, 0x08), (0xA8, 0x0F),
    ]

    public func reset() {
        resetControl = 0
        for r in 0x40..<0x100 { config.set8(r, 0) }
        for (r, value) in PIIX3ISA.registerDefaults { config.set8(r, value) }
        config.set16(0x04, 0x0007)
        driveAll()
    }

    /// PIRQ A-D routing (config 0x60-0x63): the ISA IRQ, or nil when disabled (bit 7) or
    /// reserved (IRQ 0-2, 8 and 13, 82371SB datasheet).
    public func pirqRoute(_ pirq: Int) -> Int? {
        let value = config.u8(0x60 + pirq)
        let irq = Int(value & 0x0F)
        return value & 0x80 != 0 || [0, 1, 2, 8, 13].contains(irq) ? nil : irq
    }

    public func configWrite(_ offset: Int, width: Int, value: UInt32) {
        config.write(offset, width: width, value: value)
        if offset < 0x64 && offset + width > 0x60 { driveAll() }
    }

    // MARK: Interrupt steering

    public func setGSI(_ gsi: Int, level: Bool) {
        switch gsi {
        case 0..<16:
            isaLevels[gsi] = level
            drive(gsi)
        case InterruptRouter.pirqBase..<(InterruptRouter.pirqBase + 4):
            pirqLevels[gsi - InterruptRouter.pirqBase] = level
            if let irq = pirqRoute(gsi - InterruptRouter.pirqBase) { drive(irq) }
        default:
            break // GSIs 20-23 reach only an IOAPIC
        }
    }

    private func drive(_ irq: Int) {
        let level = isaLevels[irq] || (0..<4).contains { pirqLevels[$0] && pirqRoute($0) == irq }
        guard level != picLevels[irq] else { return }
        picLevels[irq] = level
        pic?.setIRQ(irq, level: level)
        ioapic?.setIRQ(irq, level: level)
    }

    /// After a route change every IRQ may have gained or lost a PIRQ.
    private func driveAll() {
        for irq in 0..<16 { drive(irq) }
    }

    public func portRead(_ port: UInt16, width: Int) -> UInt32 { UInt32(resetControl) }

    public func portWrite(_ port: UInt16, width: Int, value: UInt32) {
        let byte = UInt8(value & 0xFF)
        if byte & 0x04 != 0 && resetControl & 0x04 == 0 {
            resetControl = byte & ~0x04
            onReset()
            return
        }
        resetControl = byte & 0x02
    }
}
