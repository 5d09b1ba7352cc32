/// Intel 82441FX (i440FX) host bridge, PCI 00:00.0: configuration mechanism #1 on
/// 0xCF8/0xCFC-0xCFF for bus 0, and the PAM registers (0x59-0x5F) that switch each BIOS
/// segment of 0xC0000-0xFFFFF between the ROM side and shadow RAM (PLATFORM-NOTES §1.2, §3.1).
/// The functions and their BARs live on `bus`.
public final class I440FX: PortDevice, PCIFunction {
    public let config = PCIConfigSpace(vendor: 0x8086, device: 0x1237, revision: 0x02, classCode: 0x06_00_00)
    private var address: UInt32 = 0
    /// Bus 0; this bridge itself (00.0) is not on it, which would be a reference cycle keeping
    /// the machine's devices and open images alive.
    public let bus: PCIBus

    private let memory: MemoryMap
    /// The whole BIOS image (mapped at 4 GiB - size); its last 128 KiB alias below 1 MiB.
    private let bios: HostBuffer
    private let biosSize: Int
    /// Zero-filled, read-only stand-in for 0xC0000-0xDFFFF while PAM selects the PCI side.
    private let zeroROM = HostBuffer(count: 0x40000)

    public static let pamFirst = 0x59
    public static let pamLast = 0x5F
    public static let smramRegister = 0x72

    public init(bus: PCIBus, memory: MemoryMap, bios: HostBuffer, biosSize: Int) {
        self.bus = bus
        self.memory = memory
        self.bios = bios
        self.biosSize = biosSize
        config.makeWritable(I440FX.pamFirst..<(I440FX.pamLast + 1))
        config.makeWritable(I440FX.smramRegister..<(I440FX.smramRegister + 1), mask: 0x78)
        reset()
    }

    /// Places `function` at 00:device.function.
    public func attach(_ function: PCIFunction, device: Int, function number: Int = 0) {
        bus.attach(function, device: device, function: number)
    }

    /// Power-on state: PAM 0 (ROM side everywhere), SMRAM 0x02, BIOS mapped at the top of 4 GiB.
    public func reset() {
        address = 0
        for r in I440FX.pamFirst...I440FX.pamLast { config.set8(r, 0) }
        config.set8(0x58, 0)
        config.set8(I440FX.smramRegister, 0x02)
        config.set16(0x04, 0x0006)
        memory.setPages(from: UInt32(truncatingIfNeeded: 0x1_0000_0000 - UInt64(biosSize)), size: biosSize,
                        readFrom: bios.pointer, writeTo: nil)
        applyPAM()
    }

    // MARK: Ports

    public func portRead(_ port: UInt16, width: Int) -> UInt32 {
        switch port {
        case 0xCF8 where width == 4:
            return address
        case 0xCFC...0xCFF:
            return configData(port: port, width: width, write: nil)
        default:
            return PortMap.allOnes(width)
        }
    }

    public func portWrite(_ port: UInt16, width: Int, value: UInt32) {
        switch port {
        case 0xCF8 where width == 4:
            address = value & 0x80FF_FFFC
        case 0xCFC...0xCFF:
            _ = configData(port: port, width: width, write: value)
        default:
            break
        }
    }

    private func configData(port: UInt16, width: Int, write value: UInt32?) -> UInt32 {
        let allOnes = PortMap.allOnes(width)
        guard address & 0x8000_0000 != 0, (address >> 16) & 0xFF == 0 else { return allOnes }
        let devfn = Int((address >> 8) & 0xFF)
        let offset = Int(address & 0xFC) + Int(port - 0xCFC)
        guard let function = devfn == 0 ? self : bus.function(devfn: devfn) else { return allOnes }
        if let value {
            function.configWrite(offset, width: width, value: value)
            return 0
        }
        return function.configRead(offset, width: width)
    }

    // MARK: Own configuration space

    public func configWrite(_ offset: Int, width: Int, value: UInt32) {
        config.write(offset, width: width, value: value)
        if offset + width > I440FX.pamFirst, offset <= I440FX.pamLast { applyPAM() }
    }

    /// PAM register value for `register` (0x59-0x5F), for tests and the debugger.
    public func pam(_ register: Int) -> UInt8 { config.u8(register) }

    /// Maps all 13 segments from the PAM registers: 0 ROM side, 1 RAM read-only (writes
    /// dropped), 2 and 3 RAM read/write (QEMU treats write-only as read/write).
    private func applyPAM() {
        for (base, size, register, high) in I440FX.segments {
            let bits = (config.u8(register) >> (high ? 4 : 0)) & 3
            let ram = memory.ram + Int(base)
            switch bits {
            case 0:
                memory.setPages(from: base, size: size, readFrom: romSide(base), writeTo: nil)
            case 1:
                memory.setPages(from: base, size: size, readFrom: ram, writeTo: nil)
            default:
                memory.mapRAM(from: base, size: size)
            }
        }
    }

    /// What reads see at `base` with PAM 0: the BIOS alias (its last 128 KiB end at 1 MiB), or
    /// zeros below the alias.
    private func romSide(_ base: UInt32) -> UnsafeMutableRawPointer {
        let aliasSize = min(biosSize, 0x20000)
        let aliasBase = 0x10_0000 - aliasSize
        if Int(base) >= aliasBase {
            return bios.pointer + (biosSize - aliasSize) + (Int(base) - aliasBase)
        }
        return zeroROM.pointer + (Int(base) - 0xC0000)
    }

    /// (base, size, register, high nibble) for every PAM-controlled segment.
    static let segments: [(UInt32, Int, Int, Bool)] = {
        var list: [(UInt32, Int, Int, Bool)] = [(0xF0000, 0x10000, 0x59, true)]
        for i in 0..<12 {
            list.append((0xC0000 + UInt32(i) * 0x4000, 0x4000, 0x5A + i / 2, i % 2 == 1))
        }
        return list
    }()
}
