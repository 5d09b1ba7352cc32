/// Intel 82371SB (PIIX3) PCI-to-ISA bridge, PCI 00:01.0, and its reset control register at
/// 0xCF9. Header type 0x80 (multi-function) is what makes SeaBIOS look at 01.1 and 01.3.
public final class PIIX3ISA: PortDevice, PCIFunction {
    private var config = PCIConfigSpace(vendor: 0x8086, device: 0x7000, revision: 0x00, classCode: 0x06_01_00, headerType: 0x80)
    private var resetControl: UInt8 = 0
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
    }

    /// PIRQ A-D routing (config 0x60-0x63): the ISA IRQ, or nil when disabled (bit 7).
    public func pirqRoute(_ pin: Int) -> Int? {
        let value = config.u8(0x60 + pin)
        return value & 0x80 != 0 ? nil : Int(value & 0x0F)
    }

    public func configRead(_ offset: Int, width: Int) -> UInt32 { config.read(offset, width: width) }
    public func configWrite(_ offset: Int, width: Int, value: UInt32) { config.write(offset, width: width, value: value) }

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
