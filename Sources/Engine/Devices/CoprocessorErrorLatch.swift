/// The PC/AT's x87 error wiring, kept by the PIIX3: the CPU's FERR# (x87 errors with CR0.NE = 0)
/// raises IRQ 13; a write to port 0xF0 lowers IRQ 13 and asserts the CPU's IGNNE# until FERR#
/// drops, so the handler's own x87 instructions run (the MS-DOS compatibility convention that
/// BIOSes, DOS and Linux follow). Reads of port 0xF0 float.
public final class CoprocessorErrorLatch: PortDevice {
    private let irq13: IRQLine
    /// The CPU's IGNNE# input, which the CPU reads: while set, a pending x87 exception with
    /// CR0.NE = 0 is ignored.
    public private(set) var ignoreNumericError = false
    public private(set) var ferr = false

    public init(irq13: IRQLine) { self.irq13 = irq13 }

    /// The CPU's FERR# output.
    public func setFERR(_ level: Bool) {
        ferr = level
        if level {
            irq13.raise()
        } else {
            irq13.lower()
            ignoreNumericError = false
        }
    }

    public func portRead(_ port: UInt16, width: Int) -> UInt32 { 0xFF }

    public func portWrite(_ port: UInt16, width: Int, value: UInt32) {
        irq13.lower()
        if ferr { ignoreNumericError = true }
    }

    public func reset() {
        ferr = false
        irq13.lower()
        ignoreNumericError = false
    }
}
