/// Where one BAR is decoded now: the bus maps this window into the port or memory map, and it
/// hands the device's handler the offset into the BAR. One per BAR for the device's life, so
/// moving a BAR reuses it (MemoryMap keeps every MMIO device it was ever given).
final class PCIBARWindow: PortDevice, MMIODevice {
    let bar: PCIBAR
    /// The decoded base, nil while the BAR is not decoded.
    var base: UInt64?

    init(bar: PCIBAR) { self.bar = bar }

    var range: Range<UInt64>? { base.map { $0..<($0 + bar.size) } }

    func portRead(_ port: UInt16, width: Int) -> UInt32 {
        guard let base, let device = bar.port else { return PortMap.allOnes(width) }
        return device.portRead(UInt16(truncatingIfNeeded: UInt64(port) &- base), width: width)
    }

    func portWrite(_ port: UInt16, width: Int, value: UInt32) {
        guard let base, let device = bar.port else { return }
        device.portWrite(UInt16(truncatingIfNeeded: UInt64(port) &- base), width: width, value: value)
    }

    func mmioRead(_ address: UInt32, width: Int) -> UInt32 {
        guard let base, let device = bar.mmio else { return PortMap.allOnes(width) }
        return device.mmioRead(UInt32(truncatingIfNeeded: UInt64(address) &- base), width: width)
    }

    func mmioWrite(_ address: UInt32, width: Int, value: UInt32) {
        guard let base, let device = bar.mmio else { return }
        device.mmioWrite(UInt32(truncatingIfNeeded: UInt64(address) &- base), width: width, value: value)
    }
}
