/// Intel 82540EM gigabit Ethernet controller (8086:100E), as QEMU's `e1000`: PCI class 02.00.00,
/// BAR0 128 KiB of registers, BAR1 64 bytes of I/O (IOADDR/IODATA window onto the same
/// registers), INTA#. Registers are one array indexed by offset/4 with side effects where the
/// hardware has them (read-to-clear ICR and statistics, self-clearing CTRL.RST, EEPROM, MDIC).
/// Descriptors and buffers move through the DMA API only; interrupts are a level on INTA#
/// (`config.setINTx`), moderated by ITR on the machine clock. Frames leave through `backend` (E1000+Transmit) and
/// arrive through `receive(_:)` (E1000+Receive).
///
/// Locking: every entry point (register access, `receive`, `setLink`, `fire`) runs under the
/// machine lock; the device has no lock of its own.
public final class E1000: PCIFunction, MMIODevice, PortDevice, TimedDevice {
    public static let vendorID: UInt16 = 0x8086
    public static let deviceID: UInt16 = 0x100E
    public static let mmioSize = 0x20000
    public static let ioSize = 0x40

    // Register offsets.
    static let ctrl = 0x0000, status = 0x0008, eecd = 0x0010, eerd = 0x0014, mdic = 0x0020
    static let icr = 0x00C0, itr = 0x00C4, ics = 0x00C8, ims = 0x00D0, imc = 0x00D8
    static let rctl = 0x0100, tctl = 0x0400, pba = 0x1000, vet = 0x0038
    static let rdbal = 0x2800, rdbah = 0x2804, rdlen = 0x2808, rdh = 0x2810, rdt = 0x2818
    static let tdbal = 0x3800, tdbah = 0x3804, tdlen = 0x3808, tdh = 0x3810, tdt = 0x3818
    static let statistics = 0x4000..<0x4100
    static let mpc = 0x4010, gprc = 0x4074, gptc = 0x4080, gorcl = 0x4088, gotcl = 0x4090
    static let tpr = 0x40D0, tpt = 0x40D4
    static let mta = 0x5200, ral = 0x5400, rah = 0x5404

    // Interrupt causes (ICR/ICS/IMS/IMC).
    public static let causeTXDW: UInt32 = 1 << 0
    public static let causeTXQE: UInt32 = 1 << 1
    public static let causeLSC: UInt32 = 1 << 2
    public static let causeRXDMT0: UInt32 = 1 << 4
    public static let causeRXO: UInt32 = 1 << 6
    public static let causeRXT0: UInt32 = 1 << 7
    public static let causeMDAC: UInt32 = 1 << 9

    static let ctrlSLU: UInt32 = 1 << 6
    static let ctrlRST: UInt32 = 1 << 26
    static let ctrlVME: UInt32 = 1 << 30
    static let ctrlPHYRST: UInt32 = 1 << 31
    static let statusLU: UInt32 = 1 << 1

    public let config = PCIConfigSpace(vendor: E1000.vendorID, device: E1000.deviceID, revision: 0x03,
                                       classCode: 0x02_00_00, interruptPin: 1)
    /// Unowned: the machine owns the memory map and outlives the device.
    unowned let memory: MemoryMap
    private let clock: MachineClock
    public let mac: [UInt8]
    /// Where transmitted frames go; nil drops them (no backend attached yet).
    public var backend: NetBackend?
    /// Bytes sent and received for the guest (the machine's totals); nil counts nothing.
    public var ioCounters: IOCounters?
    /// Told when the driver hands back receive descriptors (an RDT write), so frames held back
    /// for a full ring can be delivered.
    public var onReceiveSpace: (() -> Void)?

    var regs = [UInt32](repeating: 0, count: E1000.mmioSize / 4)
    private var eeprom: E1000EEPROM
    private var phy = E1000PHY(linkUp: true)
    private var ioAddress: UInt32 = 0
    /// The cable: whether the backend can carry frames.
    private var carrier = true
    private var irqLevel = false
    /// ITR: the earliest time the next interrupt may be asserted, and a pending assertion.
    private var nextInterruptAllowed: UInt64 = 0
    private var interruptDeadline: UInt64?
    /// The transmit packet being gathered from descriptors up to EOP.
    var tx = E1000TransmitState()

    public init(mac: [UInt8], memory: MemoryMap, clock: MachineClock) {
        precondition(mac.count == 6, "a MAC address is 6 bytes")
        self.mac = mac
        self.memory = memory
        self.clock = clock
        eeprom = E1000EEPROM(mac: mac, deviceID: E1000.deviceID, vendorID: E1000.vendorID,
                             subsystem: PCIConfigSpace.qemuSubsystem)
        config.defineMemoryBAR(0, size: UInt64(E1000.mmioSize), handler: self)
        config.defineIOBAR(1, size: UInt32(E1000.ioSize), handler: self)
        reset()
    }

    /// Power-on and CTRL.RST state: receive and transmit off, the MAC in receive address 0.
    public func reset() {
        regs = [UInt32](repeating: 0, count: E1000.mmioSize / 4)
        regs[E1000.ctrl >> 2] = E1000.ctrlSLU | 1 << 9 | 1    // set link up, 1000 Mb/s, full duplex
        regs[E1000.pba >> 2] = 0x0010_0030                     // 48 KiB receive, 16 KiB transmit
        regs[E1000.vet >> 2] = 0x8100
        regs[E1000.ral >> 2] = UInt32(mac[0]) | UInt32(mac[1]) << 8 | UInt32(mac[2]) << 16 | UInt32(mac[3]) << 24
        regs[E1000.rah >> 2] = UInt32(mac[4]) | UInt32(mac[5]) << 8 | 1 << 31 // address valid
        eeprom = E1000EEPROM(mac: mac, deviceID: E1000.deviceID, vendorID: E1000.vendorID,
                             subsystem: PCIConfigSpace.qemuSubsystem)
        phy.reset()
        phy.linkUp = carrier
        ioAddress = 0
        tx = E1000TransmitState()
        nextInterruptAllowed = 0
        interruptDeadline = nil
        setLevel(false)
    }

    // MARK: Registers

    /// Whether the link is up as the driver sees it: a carrier and CTRL.SLU.
    public var linkUp: Bool { carrier && reg(E1000.ctrl) & E1000.ctrlSLU != 0 }

    @inline(__always) func reg(_ offset: Int) -> UInt32 { regs[offset >> 2] }
    @inline(__always) func setReg(_ offset: Int, _ value: UInt32) { regs[offset >> 2] = value }

    /// A register read at byte `offset` in BAR0; sub-dword widths read part of the register.
    public func read(offset: Int, width: Int) -> UInt32 {
        guard offset >= 0, offset + width <= E1000.mmioSize else { return PortMap.allOnes(width) }
        let register = offset & ~3
        let value: UInt32
        switch register {
        case E1000.status:
            // Full duplex, 1000 Mb/s, auto-speed 1000, GIO master enabled; LU follows the link.
            value = 0x0008_0081 | 1 << 9 | (linkUp ? E1000.statusLU : 0)
        case E1000.eecd: value = eeprom.eecd
        case E1000.icr:
            value = reg(E1000.icr)
            setReg(E1000.icr, 0)
            updateInterrupt()
        case E1000.ics, E1000.imc: value = 0 // write-only
        case E1000.statistics:
            value = reg(register)
            setReg(register, 0)
        default: value = reg(register)
        }
        return (value >> UInt32(8 * (offset & 3))) & PortMap.allOnes(width)
    }

    /// A register write at byte `offset` in BAR0; sub-dword widths merge into the register.
    public func write(offset: Int, width: Int, value: UInt32) {
        guard offset >= 0, offset + width <= E1000.mmioSize else { return }
        let register = offset & ~3
        let shift = UInt32(8 * (offset & 3))
        let mask = PortMap.allOnes(width) << shift
        let v = (reg(register) & ~mask) | ((value << shift) & mask)
        switch register {
        case E1000.ctrl:
            if v & E1000.ctrlRST != 0 { reset(); return }
            if v & E1000.ctrlPHYRST != 0 { phy.reset(); phy.linkUp = carrier }
            setReg(register, v & ~(E1000.ctrlRST | E1000.ctrlPHYRST))
        case E1000.status, E1000.statistics: break // read-only
        case E1000.eecd: eeprom.writeEECD(v)
        case E1000.eerd: setReg(register, eeprom.eerd(afterWriting: v))
        case E1000.mdic: accessPHY(v)
        case E1000.icr: setReg(register, reg(register) & ~v); updateInterrupt()
        case E1000.ics: raise(v)
        case E1000.ims: setReg(register, reg(register) | v); updateInterrupt()
        case E1000.imc: setReg(E1000.ims, reg(E1000.ims) & ~v); updateInterrupt()
        case E1000.itr: setReg(register, v & 0xFFFF)
        case E1000.rdlen, E1000.tdlen: setReg(register, v & 0x000F_FF80) // 128-byte multiples
        case E1000.rdh, E1000.tdh: setReg(register, v & 0xFFFF)
        case E1000.rdt: setReg(register, v & 0xFFFF); onReceiveSpace?()
        case E1000.tdt: setReg(register, v & 0xFFFF); transmit()
        case E1000.tctl: setReg(register, v); transmit()
        default: setReg(register, v)
        }
    }

    /// MDIC: one PHY register read or write, done at once (ready bit set; error for other PHYs).
    private func accessPHY(_ value: UInt32) {
        let register = Int((value >> 16) & 0x1F)
        let opcode = (value >> 26) & 3
        var result = value & ~(1 << 30)
        if (value >> 21) & 0x1F != E1000PHY.address {
            result |= 1 << 30
        } else if opcode == 1 {
            phy.write(register, UInt16(value & 0xFFFF))
        } else if opcode == 2 {
            result = (result & 0xFFFF_0000) | UInt32(phy.read(register))
        }
        setReg(E1000.mdic, result | 1 << 28)
        if value & 1 << 29 != 0 { raise(E1000.causeMDAC) }
    }

    // MARK: Link

    /// Carrier on or off (a backend switch, the cable pulled): updates STATUS.LU and the PHY,
    /// and raises a link status change interrupt.
    public func setLink(up: Bool) {
        guard up != carrier else { return }
        carrier = up
        phy.linkUp = up
        raise(E1000.causeLSC)
    }

    // MARK: Interrupts

    /// Sets interrupt causes (ICS, or the device itself).
    func raise(_ causes: UInt32) {
        setReg(E1000.icr, reg(E1000.icr) | causes)
        updateInterrupt()
    }

    /// Lowers INTA# at once when nothing unmasked is pending; raises it when something is,
    /// no sooner than ITR x 256 ns after the previous assertion.
    private func updateInterrupt() {
        guard reg(E1000.icr) & reg(E1000.ims) != 0 else {
            interruptDeadline = nil
            setLevel(false)
            return
        }
        guard !irqLevel else { return }
        let now = clock.nanoseconds
        if now >= nextInterruptAllowed {
            assertInterrupt(now)
        } else if interruptDeadline == nil {
            interruptDeadline = nextInterruptAllowed
            deadlineArmed?(nextInterruptAllowed) // a halted vCPU wakes for it, not at its next timer
        }
    }

    private func assertInterrupt(_ now: UInt64) {
        interruptDeadline = nil
        nextInterruptAllowed = now &+ UInt64(reg(E1000.itr) & 0xFFFF) * 256
        setLevel(true)
    }

    private func setLevel(_ level: Bool) {
        guard level != irqLevel else { return }
        irqLevel = level
        config.setINTx(level)
    }

    public func nextDeadline() -> UInt64? { interruptDeadline }
    public var deadlineArmed: ((UInt64) -> Void)?

    public func fire(now: UInt64) {
        guard let deadline = interruptDeadline, deadline <= now else { return }
        interruptDeadline = nil
        if reg(E1000.icr) & reg(E1000.ims) != 0, !irqLevel { assertInterrupt(now) }
    }

    // MARK: BARs (the bus hands over offsets into the BAR)

    public func mmioRead(_ address: UInt32, width: Int) -> UInt32 { read(offset: Int(address), width: width) }

    public func mmioWrite(_ address: UInt32, width: Int, value: UInt32) {
        write(offset: Int(address), width: width, value: value)
    }

    /// BAR1: IOADDR (offset 0) selects a register, IODATA (offset 4) reads or writes it.
    public func portRead(_ port: UInt16, width: Int) -> UInt32 {
        switch port {
        case 0...3: return (ioAddress >> UInt32(8 * Int(port))) & PortMap.allOnes(width)
        case 4...7: return read(offset: Int(ioAddress & 0x1FFFC) + Int(port - 4), width: width)
        default: return 0
        }
    }

    public func portWrite(_ port: UInt16, width: Int, value: UInt32) {
        switch port {
        case 0: ioAddress = width == 4 ? value : (ioAddress & ~PortMap.allOnes(width)) | value
        case 4: write(offset: Int(ioAddress & 0x1FFFC), width: width, value: value)
        default: break
        }
    }
}
