/// Intel 82371SB (PIIX3) IDE function, PCI 00:01.1: legacy-mode primary (0x1F0/0x3F6, IRQ14)
/// and secondary (0x170/0x376, IRQ15) channels, and the bus-master registers behind BAR4
/// (16 bytes of I/O: command, status and PRD table address per channel).
public final class PIIX3IDE: PortDevice, PCIFunction {
    public let config = PCIConfigSpace(vendor: 0x8086, device: 0x7010, revision: 0x00, classCode: 0x01_01_80)
    public let primary: IDEChannel
    public let secondary: IDEChannel

    public init(ports: PortMap, memory: MemoryMap, irq14: IRQLine, irq15: IRQLine, ioCounters: IOCounters = IOCounters()) {
        primary = IDEChannel(base: 0x1F0, controlPort: 0x3F6, irq: irq14, memory: memory, ioCounters: ioCounters)
        secondary = IDEChannel(base: 0x170, controlPort: 0x376, irq: irq15, memory: memory, ioCounters: ioCounters)
        // The PCI bus maps BAR4 and hands this device offsets into it.
        config.defineIOBAR(4, size: 16, handler: self)
        config.makeWritable(0x40..<0x48)
        ports.register(primary, ports: 0x1F0...0x1F7)
        ports.register(primary, ports: 0x3F6...0x3F6)
        ports.register(secondary, ports: 0x170...0x177)
        ports.register(secondary, ports: 0x376...0x376)
    }

    public func reset() {
        primary.reset()
        secondary.reset()
        config.resetHeader()
    }

    /// The bus-master registers: `offset` into BAR4, 0-7 primary, 8-15 secondary.
    private func channel(_ offset: UInt16) -> (IDEChannel, Int) {
        (offset < 8 ? primary : secondary, Int(offset & 7))
    }

    public func portRead(_ port: UInt16, width: Int) -> UInt32 {
        let (ch, reg) = channel(port)
        switch reg {
        case 0: return UInt32(ch.busMasterCommand)
        case 2: return UInt32(ch.busMasterStatus)
        case 4...7: return (ch.prdTable >> UInt32(8 * (reg - 4))) & PortMap.allOnes(width)
        default: return 0
        }
    }

    public func portWrite(_ port: UInt16, width: Int, value: UInt32) {
        let (ch, reg) = channel(port)
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
