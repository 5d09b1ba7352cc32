/// Port 0x92 ("fast A20 and init"): bit 1 gates A20, a rising edge on bit 0 resets the CPU.
/// Reads return the latch, which SeaBIOS read-modify-writes on every mode switch (§4.9).
public final class SystemControlPortA: PortDevice {
    private var latch: UInt8 = 0
    private let memory: MemoryMap
    public var onReset: () -> Void = {}

    public init(memory: MemoryMap) { self.memory = memory }

    public func reset() {
        latch = 0
        memory.a20Enabled = true // as QEMU: A20 on at power-on even though the latch reads 0
    }

    public func portRead(_ port: UInt16, width: Int) -> UInt32 {
        UInt32(latch)
    }

    public func portWrite(_ port: UInt16, width: Int, value: UInt32) {
        let byte = UInt8(value & 0xFF)
        let rising = byte & 1 != 0 && latch & 1 == 0
        latch = byte & 0x03
        memory.a20Enabled = byte & 0x02 != 0
        if rising { onReset() }
    }
}
