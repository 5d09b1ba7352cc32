/// Intel 82371SB (PIIX3) IDE function, PCI 00:01.1: legacy-mode primary (0x1F0/0x3F6, IRQ14)
/// and secondary (0x170/0x376, IRQ15) channels, and the bus-master registers behind BAR4
/// (16 bytes of I/O: command, status and PRD table address per channel).
public final class PIIX3IDE: PortDevice, PCIFunction {
    private var config = PCIConfigSpace(vendor: 0x8086, device: 0x7010, revision: 0x00, classCode: 0x01_01_80)
    public let primary: IDEChannel
    public let secondary: IDEChannel
    // Unowned: the port map holds this device once its I/O range is registered.
    private unowned let ports: PortMap
    private var busMasterBase: UInt16?

    public init(ports: PortMap, memory: MemoryMap, irq14: IRQLine, irq15: IRQLine) {
        self.ports = ports
        primary = IDEChannel(base: 0x1F0, controlPort: 0x3F6, irq: irq14, memory: memory)
        secondary = IDEChannel(base: 0x170, controlPort: 0x376, irq: irq15, memory: memory)
        config.defineBAR(4, size: 16, io: true)
        config.makeWritable(0x40..<0x48)
        ports.register(primary, ports: 0x1F0...0x1F7)
        ports.register(primary, ports: 0x3F6...0x3F6)
        ports.register(secondary, ports: 0x170...0x177)
        ports.register(secondary, ports: 0x376...0x376)
    }

    public func reset() {
        primary.reset()
        secondary.reset()
        if let old = busMasterBase { ports.unregister(ports: old...(old + 15)) }
        busMasterBase = nil
        config.set32(0x20, 1)
        config.set16(0x04, 0)
    }

    public func configRead(_ offset: Int, width: Int) -> UInt32 { config.read(offset, width: width) }

    public func configWrite(_ offset: Int, width: Int, value: UInt32) {
        config.write(offset, width: width, value: value)
        let bar = UInt16(truncatingIfNeeded: config.bar(4))
        let wanted: UInt16? = config.ioEnabled && bar != 0 ? bar : nil
        guard wanted != busMasterBase else { return }
        if let old = busMasterBase { ports.unregister(ports: old...(old + 15)) }
        if let new = wanted { ports.register(self, ports: new...(new + 15)) }
        busMasterBase = wanted
    }

    private func channel(_ port: UInt16) -> (IDEChannel, Int)? {
        guard let base = busMasterBase else { return nil }
        let offset = Int(port - base)
        return (offset < 8 ? primary : secondary, offset & 7)
    }

    public func portRead(_ port: UInt16, width: Int) -> UInt32 {
        guard let (ch, reg) = channel(port) else { return PortMap.allOnes(width) }
        switch reg {
        case 0: return UInt32(ch.busMasterCommand)
        case 2: return UInt32(ch.busMasterStatus)
        case 4...7: return (ch.prdTable >> UInt32(8 * (reg - 4))) & PortMap.allOnes(width)
        default: return 0
        }
    }

    public func portWrite(_ port: UInt16, width: Int, value: UInt32) {
        guard let (ch, reg) = channel(port) else { return }
        switch reg {
        case 0: ch.busMasterWrite(command: UInt8(value & 0xFF))
        case 2:
            let byte = UInt8(value & 0xFF)
            // Bits 1-2 are write-one-to-clear; 5-6 (drive DMA capable) are plain bits.
            ch.busMasterStatus = (ch.busMasterStatus & ~(byte & 0x06) & ~0x60) | (byte & 0x60)
        case 4...7:
            let shift = UInt32(8 * (reg - 4))
            let mask = PortMap.allOnes(width) << shift
            ch.prdTable = (ch.prdTable & ~mask) | ((value << shift) & mask)
        default: break
        }
    }
}
