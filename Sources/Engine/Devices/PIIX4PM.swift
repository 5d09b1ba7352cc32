/// Intel 82371AB (PIIX4) power management function, PCI 00:01.3: the ACPI PM timer
/// (3.579545 MHz, 24 bits) at PMBASE+8 that SeaBIOS times every delay with, and PM1a control
/// whose SLP_EN with sleep type 0 powers the machine off (PLATFORM-NOTES §4.3, §4.12).
public final class PIIX4PM: PortDevice, PCIFunction {
    public static let timerHz: UInt64 = 3_579_545

    public let config = PCIConfigSpace(vendor: 0x8086, device: 0x7113, revision: 0x03, classCode: 0x06_80_00, interruptPin: 1)
    /// Unowned: the port map holds this device, so a strong reference back would be a cycle that
    /// keeps the whole machine (and its open, locked disk images) alive after it is gone.
    private unowned let ports: PortMap
    private let clock: MachineClock
    private var mappedBase: UInt16?
    private var status: UInt16 = 0
    private var enable: UInt16 = 0
    private var control: UInt16 = 0
    /// Soft-off requested by the guest (ACPI S5).
    public var onPowerOff: () -> Void = {}
    /// Where the SCI goes: it is not the function's INTA but the ISA IRQ in the interrupt
    /// line register (0x3C), which SeaBIOS sets to 9 and puts in the FADT (SCI_INT), as QEMU
    /// wires the SCI to GSI 9. Nil (tests): nowhere.
    public var interrupts: InterruptRouter?
    private var sci: IRQLine?
    private var sciLevel = false

    /// PM1 status/enable bit 8: the power button; PM1 control bit 0: SCI_EN (ACPI mode).
    static let powerButton: UInt16 = 0x0100

    public init(ports: PortMap, clock: MachineClock) {
        self.ports = ports
        self.clock = clock
        config.makeWritable(0x40..<0x100)
        reset()
    }

    public func reset() {
        if let base = mappedBase { ports.unregister(ports: base...(base + 0x3F)) }
        mappedBase = nil
        config.resetHeader()
        for r in 0x40..<0x100 { config.set8(r, 0) }
        config.set32(0x40, 1) // PMBASE, I/O space indicator
        // DEVACTB APMC_EN: tells SeaBIOS SMM is already set up, as QEMU does with smm=off.
        config.set8(0x5B, 0x02)
        status = 0
        enable = 0
        // SCI_EN from power-on, as QEMU's PIIX4 without SMM: an OS finds ACPI mode already on
        // and never tries the SMI_CMD handshake (0xF1 to port 0xB2), which nothing here answers.
        control = 0x0001
        updateSCI()
        routeSCI()
    }

    /// True when an ACPI OS listens for the power button: ACPI mode on and the event enabled.
    public var powerButtonEnabled: Bool { control & 1 != 0 && enable & PIIX4PM.powerButton != 0 }

    /// The user pressed the power button: latch the event and raise the SCI if the guest wants it.
    public func pressPowerButton() {
        status |= PIIX4PM.powerButton
        updateSCI()
    }

    private func updateSCI() {
        let level = control & 1 != 0 && status & enable & PIIX4PM.powerButton != 0
        guard level != sciLevel else { return }
        sciLevel = level
        sci?.set(level)
    }

    /// Moves the SCI to the IRQ now in 0x3C (none for 0 and 0xFF), carrying its level along.
    private func routeSCI() {
        let irq = Int(config.u8(0x3C))
        guard irq != sci?.gsi else { return }
        sci?.lower()
        sci = (1..<16).contains(irq) ? interrupts?.line(irq) : nil
        sci?.set(sciLevel)
    }

    /// The I/O base of the PM registers, when decoded (config 0x80 bit 0).
    public var pmBase: UInt16? { mappedBase }

    public func configWrite(_ offset: Int, width: Int, value: UInt32) {
        config.write(offset, width: width, value: value)
        config.set8(0x40, config.u8(0x40) | 1)
        routeSCI()
        updateMapping()
    }

    private func updateMapping() {
        let base = UInt16(truncatingIfNeeded: config.u32(0x40) & 0xFFC0)
        let wanted: UInt16? = config.u8(0x80) & 1 != 0 && base != 0 ? base : nil
        guard wanted != mappedBase else { return }
        if let old = mappedBase { ports.unregister(ports: old...(old + 0x3F)) }
        if let new = wanted { ports.register(self, ports: new...(new + 0x3F)) }
        mappedBase = wanted
    }

    /// The 24-bit PM timer value now.
    public var timer: UInt32 {
        UInt32(truncatingIfNeeded: Timebase.ticks(clock.nanoseconds, hz: PIIX4PM.timerHz) & 0xFF_FFFF)
    }

    public func portRead(_ port: UInt16, width: Int) -> UInt32 {
        guard let base = mappedBase else { return PortMap.allOnes(width) }
        switch Int(port) - Int(base) {
        case 0: return UInt32(status)
        case 1: return UInt32(status >> 8)
        case 2: return UInt32(enable)
        case 3: return UInt32(enable >> 8)
        case 4: return UInt32(control)
        case 5: return UInt32(control >> 8)
        case 8: return timer
        case 9: return timer >> 8
        case 10: return timer >> 16
        case 11: return 0
        default: return PortMap.allOnes(width)
        }
    }

    public func portWrite(_ port: UInt16, width: Int, value: UInt32) {
        guard let base = mappedBase else { return }
        switch Int(port) - Int(base) {
        case 0: status &= ~UInt16(truncatingIfNeeded: width >= 2 ? value : value & 0xFF) // write 1 to clear
        case 1: status &= ~(UInt16(value & 0xFF) << 8)
        case 2: enable = width >= 2 ? UInt16(truncatingIfNeeded: value) : (enable & 0xFF00) | UInt16(value & 0xFF)
        case 3: enable = (enable & 0x00FF) | UInt16(value & 0xFF) << 8
        case 4: writeControl(width >= 2 ? UInt16(truncatingIfNeeded: value) : (control & 0xFF00) | UInt16(value & 0xFF))
        case 5: writeControl((control & 0x00FF) | UInt16(value & 0xFF) << 8)
        default: break
        }
        updateSCI()
    }

    private func writeControl(_ value: UInt16) {
        control = value & ~0x2000 // SLP_EN reads back 0
        let sleepType = (value >> 10) & 7
        if value & 0x2000 != 0 && sleepType == 0 { onPowerOff() }
    }
}
