/// An ICH9-class AHCI SATA controller (8086:2922, class 01.06.01, as QEMU's ich9-ahci): the
/// HBA registers behind ABAR (BAR5, 4 KiB of memory) and up to six ports, each with its
/// command list and FIS receive area in guest memory (`AHCIPort`). Commands run to completion
/// when the guest issues them; interrupts go out on INTA#, or as an MSI once the guest enables
/// the MSI capability (as QEMU's ich9-ahci, which offers one vector).
///
/// Registers are offset-based (`read(offset:width:)`, `write(offset:width:value:)`); the PCI
/// bus maps ABAR and hands the MMIODevice conformance offsets into it.
public final class AHCI: PCIFunction, MMIODevice {
    public static let barIndex = 5
    public static let barSize = 0x1000
    static let portBase = 0x100
    static let portStride = 0x80

    enum GHC {
        static let hbaReset: UInt32 = 1 << 0
        static let interruptEnable: UInt32 = 1 << 1
        static let ahciEnable: UInt32 = 1 << 31
    }

    public let ports: [AHCIPort]
    /// Told when a port stops on a full host disk or a failed fsync; `retry()` resumes.
    public var onStop: ((DiskControllerStop) -> Void)?
    /// Where the bytes the ports move are counted (the machine's), if anywhere.
    public var ioCounters: IOCounters?

    public let config = PCIConfigSpace(vendor: 0x8086, device: 0x2922, revision: 0x02,
                                       classCode: 0x01_06_01, interruptPin: 1)
    let msi: PCIMSI
    /// Unowned: the machine owns the memory map and outlives the controller, whose open,
    /// locked images must not be kept alive by it.
    unowned let memory: MemoryMap
    private var interruptEnable = false
    private var interruptStatus: UInt32 = 0
    /// Whether the controller was interrupting at the last update (the MSI edge).
    private var interrupting = false
    private var biosHandoff: UInt32 = 0

    public init(memory: MemoryMap, portCount: Int = 6) {
        precondition((1...32).contains(portCount))
        self.memory = memory
        var made: [AHCIPort] = []
        for index in 0..<portCount { made.append(AHCIPort(index: index)) }
        ports = made
        msi = config.addMSI(vectors: 1, is64Bit: true)
        config.defineMemoryBAR(AHCI.barIndex, size: UInt64(AHCI.barSize), handler: self)
        for port in ports { port.controller = self }
    }

    /// Puts a disk (or nothing) on a port; the guest sees it at the next reset.
    public func attach(_ device: AHCIPort.Device?, port: Int, onHostDiskFull: HostDiskFullPolicy = .pause) {
        ports[port].device = device
        ports[port].onHostDiskFull = onHostDiskFull
    }

    /// Power-on or machine reset: PCI header (command, BAR, MSI) reset, HBA reset.
    public func reset() {
        config.resetHeader()
        resetHBA()
    }

    /// GHC.HR: every port reset, global registers back to their defaults.
    private func resetHBA() {
        interruptEnable = false
        interruptStatus = 0
        biosHandoff = 0
        for port in ports { port.reset() }
        updateInterrupt()
    }

    /// Re-runs the requests kept after a `.hostDiskFull` stop.
    public func retry() {
        for port in ports { port.retry() }
    }

    // MARK: PCI

    /// The guest turning MSI on or off moves a pending interrupt between INTA# and messages.
    public func configWrite(_ offset: Int, width: Int, value: UInt32) {
        config.write(offset, width: width, value: value)
        if (msi.offset..<msi.offset + 4).overlaps(offset..<offset + width) { updateInterrupt() }
    }

    /// Whether the guest let the controller master the bus (DMA).
    var busMasterEnabled: Bool { config.busMasterEnabled }

    public func mmioRead(_ address: UInt32, width: Int) -> UInt32 { read(offset: Int(address), width: width) }

    public func mmioWrite(_ address: UInt32, width: Int, value: UInt32) {
        write(offset: Int(address), width: width, value: value)
    }

    // MARK: Registers

    var capabilities: UInt32 {
        let s64a: UInt32 = 1 << 31, sncq: UInt32 = 1 << 30, sam: UInt32 = 1 << 18
        let gen1: UInt32 = 1 << 20 // interface speed support: 1.5 Gbps, as QEMU
        let slots = UInt32(AHCIPort.slotCount - 1) << 8
        return s64a | sncq | sam | gen1 | slots | UInt32(ports.count - 1)
    }

    /// Reads `width` bytes at `offset` in ABAR (accesses narrower than a register see its bytes).
    public func read(offset: Int, width: Int) -> UInt32 {
        guard offset >= 0, offset + width <= AHCI.barSize else { return PortMap.allOnes(width) }
        let shift = UInt32(8 * (offset & 3))
        return (readRegister(offset & ~3) >> shift) & PortMap.allOnes(width)
    }

    public func write(offset: Int, width: Int, value: UInt32) {
        guard offset >= 0, offset + width <= AHCI.barSize else { return }
        let shift = UInt32(8 * (offset & 3))
        writeRegister(offset & ~3, value: value << shift, mask: PortMap.allOnes(width) << shift)
    }

    private func readRegister(_ offset: Int) -> UInt32 {
        if offset >= AHCI.portBase {
            let index = (offset - AHCI.portBase) / AHCI.portStride
            guard index < ports.count else { return 0 }
            return ports[index].read((offset - AHCI.portBase) % AHCI.portStride)
        }
        switch offset {
        case 0x00: return capabilities
        case 0x04: return GHC.ahciEnable | (interruptEnable ? GHC.interruptEnable : 0)
        case 0x08: return interruptStatus
        case 0x0C: return UInt32.max >> UInt32(32 - ports.count) // ports implemented
        case 0x10: return 0x0001_0000 // AHCI 1.0, as QEMU
        case 0x28: return biosHandoff
        default: return 0 // CCC, enclosure management, CAP2: none
        }
    }

    /// `mask` selects the bytes written; write-1-to-clear registers clear only within it.
    private func writeRegister(_ offset: Int, value: UInt32, mask: UInt32) {
        if offset >= AHCI.portBase {
            let index = (offset - AHCI.portBase) / AHCI.portStride
            guard index < ports.count else { return }
            ports[index].write((offset - AHCI.portBase) % AHCI.portStride, value: value, mask: mask)
            return
        }
        switch offset {
        case 0x04:
            if value & mask & GHC.hbaReset != 0 { return resetHBA() } // HR reads back 0: done at once
            if mask & GHC.interruptEnable != 0 { interruptEnable = value & GHC.interruptEnable != 0 }
            updateInterrupt()
        case 0x08:
            interruptStatus &= ~(value & mask)
            updateInterrupt()
        case 0x28:
            // BIOS/OS handoff: no BIOS owns the HBA, so the OS ownership bit is simply kept.
            biosHandoff = (biosHandoff & ~mask) | (value & mask & 0x2)
        default: break
        }
    }

    /// A port's PxIS or PxIE changed: its IS bit is set while it has an enabled status bit (and
    /// stays set until the guest clears it), and the interrupt follows GHC.IE and IS. With MSI
    /// enabled a message goes out when the controller starts interrupting or an IS bit is set
    /// anew (a port still pending after the guest cleared its IS bit), so no event is lost
    /// between the guest's reads of PxIS and its write to IS.
    func updateInterrupt() {
        let before = interruptStatus
        for port in ports where port.interruptPending { interruptStatus |= 1 << UInt32(port.index) }
        let wasInterrupting = interrupting
        interrupting = interruptEnable && interruptStatus != 0
        if msi.enabled {
            config.setINTx(false)
            if interrupting && (!wasInterrupting || interruptStatus & ~before != 0) { msi.notify() }
        } else {
            config.setINTx(interrupting)
        }
    }

    func stopped(_ reason: DiskControllerStop) { onStop?(reason) }
}
