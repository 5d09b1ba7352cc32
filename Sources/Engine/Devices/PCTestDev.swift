/// QEMU's `pc-testdev`, which kvm-unit-tests' x86 tests expect (their x86/run adds it): a 32-bit
/// scratch register at ports 0xE0-0xE3 (again at 0xE8-0xEB), a page-flush port at 0xE4 (nothing
/// to flush without KVM), a byte written to 0x2000 + n sets the level of ISA IRQ n, and 64 KiB of
/// MMIO at 0xFF000000 that keeps what is written: the tests' "emulated MMIO" page, which here
/// goes through the CPU's MMIO slow path.
public final class PCTestDev: PortDevice, MMIODevice {
    public static let ioMemoryBase: UInt32 = 0xFF00_0000
    public static let ioMemorySize = 0x10000
    public static let portRanges: [ClosedRange<UInt16>] = [0xE0...0xEB, 0x2000...0x2017]

    private let interrupts: InterruptController
    private var scratch: UInt32 = 0
    private var ioMemory = [UInt8](repeating: 0, count: PCTestDev.ioMemorySize)

    public init(interrupts: InterruptController) {
        self.interrupts = interrupts
    }

    /// The scratch register's bits that an access of `width` bytes at `port` covers.
    private func lane(_ port: UInt16, _ width: Int) -> (shift: UInt32, mask: UInt32) {
        let shift = UInt32(port & 3) * 8
        let bits = UInt32(truncatingIfNeeded: (UInt64(1) << UInt64(width * 8)) - 1)
        return (shift, bits << shift)
    }

    public func portRead(_ port: UInt16, width: Int) -> UInt32 {
        switch port {
        case 0xE0...0xE3, 0xE8...0xEB:
            let (shift, mask) = lane(port, width)
            return (scratch & mask) >> shift
        default:
            return PortMap.allOnes(width)
        }
    }

    public func portWrite(_ port: UInt16, width: Int, value: UInt32) {
        switch port {
        case 0xE0...0xE3, 0xE8...0xEB:
            let (shift, mask) = lane(port, width)
            scratch = scratch & ~mask | (value << shift) & mask
        case 0x2000...0x200F:
            interrupts.setIRQ(Int(port - 0x2000), level: value & 0xFF != 0)
        default:
            break // page flush; IRQs 16-23 need an IOAPIC
        }
    }

    public func mmioRead(_ address: UInt32, width: Int) -> UInt32 {
        let offset = Int(address &- PCTestDev.ioMemoryBase)
        var value: UInt32 = 0
        for i in 0..<width { value |= UInt32(ioMemory[(offset + i) & 0xFFFF]) << UInt32(8 * i) }
        return value
    }

    public func mmioWrite(_ address: UInt32, width: Int, value: UInt32) {
        let offset = Int(address &- PCTestDev.ioMemoryBase)
        for i in 0..<width { ioMemory[(offset + i) & 0xFFFF] = UInt8(truncatingIfNeeded: value >> UInt32(8 * i)) }
    }
}
