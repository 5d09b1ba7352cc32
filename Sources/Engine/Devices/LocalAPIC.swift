/// The local APIC of one vCPU in Emulate mode: an xAPIC (Intel SDM vol. 3 ch. 10; what
/// QEMU's hw/intc/apic.c shows SeaBIOS and Linux) at the base its IA32_APIC_BASE MSR names.
///
/// * Registers are 32-bit, 16-byte aligned; the interpreter routes its accesses to the APIC
///   page here (the page is per CPU, so it is not on the shared memory map).
/// * Interrupts: fixed ones wait in IRR, move to ISR when the CPU takes them (INTA) if their
///   priority class beats the PPR, and leave at EOI, which a level-triggered one (TMR) also
///   sends to the IOAPIC. LINT0 in ExtINT mode passes the 8259 pair's INTR through (the BSP's
///   LINT0 is ExtINT from power-on, as QEMU, so a guest that never touches the APIC keeps its
///   PIC); with the APIC globally disabled in the MSR the PIC reaches the CPU directly.
/// * The timer counts at 1 GHz over the divide register on the machine clock (QEMU's rate):
///   one-shot and periodic. TSC-deadline mode is not offered (CPUID.1:ECX bit 24 is clear).
/// * ICR: fixed, lowest-priority, NMI, INIT and Startup, physical or logical (flat or cluster)
///   destinations and the shorthands, sent through the APIC bus. INIT and SIPI wait here until
///   the machine applies them to the vCPU between turns (`takeStartupSignals`).
public final class LocalAPIC: InterruptAcknowledge, TimedDevice {
    public static let defaultBase: UInt32 = 0xFEE0_0000
    /// Version 0x14 (an integrated APIC), LVT entries 0-5: timer, thermal, performance, LINT0,
    /// LINT1, error (QEMU reads 0x50014).
    static let versionRegister: UInt32 = 0x0005_0014
    static let masked: UInt32 = 1 << 16

    /// LVT indexes, in register order from 0x320.
    enum LVT {
        static let timer = 0, thermal = 1, performance = 2, lint0 = 3, lint1 = 4, error = 5
    }

    /// ESR bits (SDM table 10-8).
    enum ErrorBit {
        static let sendIllegalVector: UInt32 = 0x20
        static let receiveIllegalVector: UInt32 = 0x40
        static let illegalRegister: UInt32 = 0x80
    }

    public private(set) var id: UInt8
    let isBootstrap: Bool
    private let clock: MachineClock
    private unowned let bus: APICBus
    /// The 8259 pair behind LINT0.
    private let pic: InterruptAcknowledge?

    /// Something the CPU should look at changed (IRR, ISR, TPR, LINT0): wired to its irqCheck.
    public var onInterruptChange: () -> Void = {}
    /// An NMI arrived (LVT or IPI).
    public var onNMI: () -> Void = {}
    public var deadlineArmed: ((UInt64) -> Void)?

    /// IA32_APIC_BASE: base, global enable (bit 11), BSP (bit 8).
    public private(set) var baseMSR: UInt64 = 0
    private var tpr: UInt32 = 0
    private var ldr: UInt32 = 0
    private var dfr: UInt32 = 0xFFFF_FFFF
    private var svr: UInt32 = 0xFF
    private var esr: UInt32 = 0
    private var errors: UInt32 = 0
    private var icrLow: UInt32 = 0
    private var icrHigh: UInt32 = 0
    private var lvt = [UInt32](repeating: LocalAPIC.masked, count: 6)
    /// 256-bit vector sets, 32 vectors a word as the registers show them.
    private var irr = [UInt32](repeating: 0, count: 8)
    private var isr = [UInt32](repeating: 0, count: 8)
    private var tmr = [UInt32](repeating: 0, count: 8)
    private var initialCount: UInt32 = 0
    private var divideConfig: UInt32 = 0
    private var timerStart: UInt64 = 0
    /// When the timer next reaches zero; nil while stopped.
    private var timerExpiry: UInt64?

    private var pendingINIT = false
    private var pendingStartup: UInt8?

    public init(id: UInt8, bootstrap: Bool, clock: MachineClock, bus: APICBus, pic: InterruptAcknowledge?) {
        self.id = id
        isBootstrap = bootstrap
        self.clock = clock
        self.bus = bus
        self.pic = pic
        bus.attach(self)
        reset()
    }

    /// Power-on: enabled at 0xFEE00000, the BSP's LINT0 in ExtINT mode (QEMU's
    /// apic_reset_common) so that the PIC works for guests that never program the APIC.
    public func reset() {
        baseMSR = UInt64(LocalAPIC.defaultBase) | 0x800 | (isBootstrap ? 0x100 : 0)
        initReset()
        if isBootstrap { lvt[LVT.lint0] = 0x700 }
        onInterruptChange()
    }

    /// INIT: every register but the ID and the base MSR to its reset value (SDM §10.4.7.3).
    private func initReset() {
        tpr = 0
        ldr = 0
        dfr = 0xFFFF_FFFF
        svr = 0xFF
        esr = 0
        errors = 0
        icrLow = 0
        icrHigh = 0
        lvt = [UInt32](repeating: LocalAPIC.masked, count: 6)
        irr = [UInt32](repeating: 0, count: 8)
        isr = irr
        tmr = irr
        initialCount = 0
        divideConfig = 0
        timerExpiry = nil
        pendingINIT = false
        pendingStartup = nil
    }

    // MARK: IA32_APIC_BASE (MSR 0x1B)

    public var hardwareEnabled: Bool { baseMSR & 0x800 != 0 }
    var softwareEnabled: Bool { svr & 0x100 != 0 }

    /// Where this CPU sees its registers, nil while the APIC is globally disabled.
    public var mmioBase: UInt32? { hardwareEnabled ? UInt32(truncatingIfNeeded: baseMSR & 0xFFFF_F000) : nil }

    /// A WRMSR; false for a value the CPU refuses with #GP: reserved bits, the x2APIC enable
    /// (bit 10, not offered), an address beyond 36 bits.
    public func writeBaseMSR(_ value: UInt64) -> Bool {
        guard value & 0xFFFF_FFF0_0000_06FF == 0 else { return false }
        let wasEnabled = hardwareEnabled
        baseMSR = (value & ~0x100) | (baseMSR & 0x100)
        if wasEnabled && !hardwareEnabled {
            // Globally disabled: as a software disable until the next reset (QEMU's apic_set_base).
            svr &= ~0x100
            for i in lvt.indices { lvt[i] |= LocalAPIC.masked }
        }
        onInterruptChange()
        return true
    }

    // MARK: Registers

    /// A read at `offset` in the APIC page; narrower reads see the bytes of the register.
    public func read(offset: UInt32, width: Int) -> UInt32 {
        let value = register(offset & 0xFF0)
        let shift = (offset & 3) * 8
        return width >= 4 ? value >> shift : (value >> shift) & ((1 << UInt32(8 * width)) - 1)
    }

    private func register(_ offset: UInt32) -> UInt32 {
        switch offset {
        case 0x20: return UInt32(id) << 24
        case 0x30: return LocalAPIC.versionRegister
        case 0x80: return tpr
        case 0x90: return arbitrationPriority
        case 0xA0: return processorPriority
        case 0xD0: return ldr
        case 0xE0: return dfr
        case 0xF0: return svr
        case 0x100..<0x180: return isr[Int(offset - 0x100) >> 4]
        case 0x180..<0x200: return tmr[Int(offset - 0x180) >> 4]
        case 0x200..<0x280: return irr[Int(offset - 0x200) >> 4]
        case 0x280: return esr
        case 0x300: return icrLow & ~0x1000 // delivery is immediate: never "send pending"
        case 0x310: return icrHigh
        case 0x320..<0x380: return lvt[Int(offset - 0x320) >> 4]
        case 0x380: return initialCount
        case 0x390: return currentCount
        case 0x3E0: return divideConfig
        case 0xB0, 0xC0: return 0 // EOI is write-only, remote read is not supported
        default:
            raiseError(ErrorBit.illegalRegister)
            return 0
        }
    }

    /// A write at `offset`; narrower writes are taken as the whole register (SDM §10.4.1:
    /// only 32-bit aligned accesses are defined).
    public func write(offset: UInt32, width: Int, value: UInt32) {
        switch offset & 0xFF0 {
        case 0x20: id = UInt8(value >> 24)
        case 0x80:
            tpr = value & 0xFF
            onInterruptChange()
        case 0xB0: endOfInterrupt()
        case 0xD0: ldr = value & 0xFF00_0000
        case 0xE0: dfr = value | 0x0FFF_FFFF
        case 0xF0:
            svr = value & 0x1FF
            if !softwareEnabled { for i in lvt.indices { lvt[i] |= LocalAPIC.masked } }
            onInterruptChange()
        case 0x280:
            esr = errors // a write latches the errors seen since the last one
            errors = 0
        case 0x300:
            icrLow = value & 0x000C_CFFF
            sendIPI()
        case 0x310: icrHigh = value & 0xFF00_0000
        case 0x320..<0x380: writeLVT(Int((offset & 0xFF0) - 0x320) >> 4, value)
        case 0x380: startTimer(count: value)
        case 0x3E0: divideConfig = value & 0xB
        case 0x30, 0x90, 0xA0, 0xC0, 0x100..<0x280, 0x390: break // read-only
        default: raiseError(ErrorBit.illegalRegister)
        }
    }

    /// Writable LVT bits (SDM figure 10-8): the timer has its mode (bit 17; bit 18, TSC-deadline,
    /// is reserved without it), LINT0/1 their polarity and trigger; a software-disabled APIC
    /// keeps every entry masked.
    private func writeLVT(_ index: Int, _ value: UInt32) {
        let writable: UInt32
        switch index {
        case LVT.timer: writable = 0x3_00FF
        case LVT.lint0, LVT.lint1: writable = 0x1_A7FF
        case LVT.error: writable = 0x1_00FF
        default: writable = 0x1_07FF
        }
        lvt[index] = value & writable | (softwareEnabled ? 0 : LocalAPIC.masked)
        if index == LVT.lint0 { onInterruptChange() }
    }

    // MARK: Priorities and the INTA cycle

    private static func highest(_ set: [UInt32]) -> Int? {
        for word in stride(from: 7, through: 0, by: -1) where set[word] != 0 {
            return word * 32 + 31 - set[word].leadingZeroBitCount
        }
        return nil
    }

    private static func contains(_ set: [UInt32], _ vector: Int) -> Bool { set[vector >> 5] & (1 << UInt32(vector & 31)) != 0 }

    private static func insert(_ set: inout [UInt32], _ vector: Int) { set[vector >> 5] |= 1 << UInt32(vector & 31) }

    private static func remove(_ set: inout [UInt32], _ vector: Int) { set[vector >> 5] &= ~(1 << UInt32(vector & 31)) }

    /// PPR: the TPR, or the class of the highest in-service vector when that is higher.
    var processorPriority: UInt32 {
        let inService = UInt32(LocalAPIC.highest(isr) ?? 0)
        return tpr >> 4 >= inService >> 4 ? tpr : inService & 0xF0
    }

    /// What lowest-priority delivery compares (SDM §10.6.2.4, as QEMU: TPR against IRR and ISR).
    var arbitrationPriority: UInt32 {
        let requested = UInt32(max(LocalAPIC.highest(isr) ?? 0, LocalAPIC.highest(irr) ?? 0))
        return tpr >> 4 >= requested >> 4 ? tpr : requested & 0xF0
    }

    /// The highest requested vector whose class beats the PPR.
    private var deliverableVector: Int? {
        guard let vector = LocalAPIC.highest(irr), UInt32(vector) & 0xF0 > processorPriority & 0xF0 else { return nil }
        return vector
    }

    /// The PIC's INTR reaches the CPU: through LINT0 in ExtINT mode, or directly with the APIC
    /// globally disabled (QEMU's apic_accept_pic_intr).
    private var picPassesThrough: Bool {
        !hardwareEnabled || (lvt[LVT.lint0] & LocalAPIC.masked == 0 && (lvt[LVT.lint0] >> 8) & 7 == 7)
    }

    public var interruptPending: Bool {
        if hardwareEnabled && deliverableVector != nil { return true }
        return picPassesThrough && (pic?.interruptPending ?? false)
    }

    /// The INTA cycle: the APIC's own vector first (moved from IRR to ISR), else the PIC's.
    public func acknowledgeInterrupt() -> UInt8 {
        if hardwareEnabled, let vector = deliverableVector {
            LocalAPIC.remove(&irr, vector)
            LocalAPIC.insert(&isr, vector)
            return UInt8(vector)
        }
        if picPassesThrough, let pic, pic.interruptPending { return pic.acknowledgeInterrupt() }
        return UInt8(svr & 0xFF) // spurious
    }

    private func endOfInterrupt() {
        guard let vector = LocalAPIC.highest(isr) else { return }
        LocalAPIC.remove(&isr, vector)
        if LocalAPIC.contains(tmr, vector) {
            LocalAPIC.remove(&tmr, vector)
            bus.endOfInterrupt(vector: UInt8(vector))
        }
        onInterruptChange()
    }

    /// Whether `vector` is requested (IRR) or in service (ISR), for tests and the debugger.
    public func isRequested(_ vector: UInt8) -> Bool { LocalAPIC.contains(irr, Int(vector)) }
    public func isInService(_ vector: UInt8) -> Bool { LocalAPIC.contains(isr, Int(vector)) }

    // MARK: Accepting messages

    /// A message from the APIC bus (an IPI, the IOAPIC, an MSI) or a local source.
    func accept(_ mode: APICDeliveryMode, vector: UInt8, levelTriggered: Bool) {
        switch mode {
        case .fixed, .lowestPriority:
            guard vector >= 16 else { return raiseError(ErrorBit.receiveIllegalVector) }
            LocalAPIC.insert(&irr, Int(vector))
            if levelTriggered { LocalAPIC.insert(&tmr, Int(vector)) } else { LocalAPIC.remove(&tmr, Int(vector)) }
            onInterruptChange()
        case .nmi:
            onNMI()
        case .initSignal:
            pendingINIT = true
            pendingStartup = nil
        case .startup:
            pendingStartup = vector
        case .smi, .extINT:
            break // no SMM; ExtINT reaches the CPU through LINT0 only
        }
    }

    /// INIT and SIPI received since the last call; INIT resets this APIC's registers now.
    /// The machine applies them to the vCPU (reset(.initSignal), startup(vector:)).
    public func takeStartupSignals() -> (initSignal: Bool, startupVector: UInt8?) {
        let signals = (pendingINIT, pendingStartup)
        if pendingINIT {
            let keep = pendingStartup
            initReset()
            pendingStartup = keep
        }
        pendingINIT = false
        pendingStartup = nil
        return signals
    }

    /// Whether a logical destination names this APIC (flat or cluster model, SDM §10.6.2.2).
    func matchesLogical(_ destination: UInt8) -> Bool {
        let logical = UInt8(ldr >> 24)
        if dfr >> 28 == 0xF { return logical & destination != 0 }
        let cluster = destination >> 4
        return (cluster == 0xF || cluster == logical >> 4) && logical & destination & 0xF != 0
    }

    private func sendIPI() {
        let vector = UInt8(icrLow & 0xFF)
        guard let mode = APICDeliveryMode(rawValue: UInt8((icrLow >> 8) & 7)) else { return }
        let levelTriggered = icrLow & 0x8000 != 0
        // INIT level de-assert only synchronises arbitration IDs on old parts: nothing to do.
        if mode == .initSignal && levelTriggered && icrLow & 0x4000 == 0 { return }
        if (mode == .fixed || mode == .lowestPriority) && vector < 16 { return raiseError(ErrorBit.sendIllegalVector) }
        let shorthand = APICBus.Shorthand(rawValue: UInt8((icrLow >> 18) & 3)) ?? .none
        bus.send(from: self, shorthand: shorthand, destination: UInt8(icrHigh >> 24), logical: icrLow & 0x800 != 0,
                 mode: mode, vector: vector, levelTriggered: levelTriggered)
    }

    private func raiseError(_ bit: UInt32) {
        errors |= bit
        deliverLocal(LVT.error)
    }

    /// An LVT source fires: its vector as a fixed edge interrupt, or an NMI, unless masked.
    private func deliverLocal(_ index: Int) {
        let entry = lvt[index]
        guard entry & LocalAPIC.masked == 0 else { return }
        switch (entry >> 8) & 7 {
        case 4: onNMI()
        case 0: accept(.fixed, vector: UInt8(entry & 0xFF), levelTriggered: false)
        default: break
        }
    }

    // MARK: Timer

    /// Nanoseconds per count: the divide register's 1, 2, 4 ... 128 (bits 0, 1 and 3).
    private var nanosecondsPerCount: UInt64 {
        let code = (divideConfig & 3) | (divideConfig & 8) >> 1
        return code == 7 ? 1 : 2 << UInt64(code)
    }

    private var periodic: Bool { lvt[LVT.timer] & 0x2_0000 != 0 }

    private func startTimer(count: UInt32) {
        initialCount = count
        timerStart = clock.nanoseconds
        timerExpiry = count == 0 ? nil : timerStart &+ UInt64(count) &* nanosecondsPerCount
        if let timerExpiry { deadlineArmed?(timerExpiry) }
    }

    private var currentCount: UInt32 {
        guard initialCount != 0, timerExpiry != nil else { return 0 }
        let elapsed = (clock.nanoseconds &- timerStart) / nanosecondsPerCount
        if periodic { return initialCount - UInt32(elapsed % UInt64(initialCount)) }
        return elapsed >= UInt64(initialCount) ? 0 : initialCount - UInt32(elapsed)
    }

    public func nextDeadline() -> UInt64? { timerExpiry }

    /// Zero reached: the timer vector (masked or not, the count goes on); periodic reloads,
    /// folding periods the machine slept through into one interrupt.
    public func fire(now: UInt64) {
        guard let expiry = timerExpiry, expiry <= now else { return }
        deliverLocal(LVT.timer)
        guard periodic else {
            timerExpiry = nil
            return
        }
        let period = UInt64(initialCount) &* nanosecondsPerCount
        let periods = (now &- timerStart) / period + 1
        timerExpiry = timerStart &+ periods &* period
    }
}
