/// The ACPI general-purpose event block QEMU's PIIX4 machine has at 0xAFE0, where SeaBIOS's
/// FADT points GPE0_BLK: two bytes of GPE0 status (write one to clear), then two of enable.
/// Nothing raises a GPE yet; an OS reading it on an SCI (the power button) finds no stray
/// events instead of floating all-ones.
public final class ACPIGPEBlock: PortDevice {
    public static let portRange: ClosedRange<UInt16> = 0xAFE0...0xAFE3
    private var registers: [UInt8] = [0, 0, 0, 0]

    public init() {}

    public var status: UInt16 { UInt16(registers[0]) | UInt16(registers[1]) << 8 }
    public var enable: UInt16 { UInt16(registers[2]) | UInt16(registers[3]) << 8 }

    public func reset() { registers = [0, 0, 0, 0] }

    public func portRead(_ port: UInt16, width: Int) -> UInt32 {
        let first = Int(port - ACPIGPEBlock.portRange.lowerBound)
        var value: UInt32 = 0
        for i in 0..<width where first + i < 4 { value |= UInt32(registers[first + i]) << UInt32(8 * i) }
        return value
    }

    public func portWrite(_ port: UInt16, width: Int, value: UInt32) {
        let first = Int(port - ACPIGPEBlock.portRange.lowerBound)
        for i in 0..<width where first + i < 4 {
            let byte = UInt8(truncatingIfNeeded: value >> UInt32(8 * i))
            if first + i < 2 { registers[first + i] &= ~byte } else { registers[first + i] = byte }
        }
    }
}
