/// The x86 interpreter (Emulate mode): a 386-class CPU in real and protected mode.
///
/// Hot state lives behind `let` pointers (`state`, `gpr`, `seg`, the TLB arrays), so the hot
/// loop touches plain memory: no exclusivity checks, no ARC, no existentials. Instructions are
/// decoded straight from guest memory through a per-page host pointer, so self-modifying code
/// needs no invalidation (nothing is cached beyond host pointers, which follow
/// `MemoryMap.mappingGeneration`, CR3 and A20). Faults are `Fault` values delivered by one
/// function, `deliver(_:)`.
public final class Interpreter: CPUBackend {
    public let memory: MemoryMap
    public let ports: PortMap
    public var interruptController: InterruptAcknowledge? {
        didSet { state.pointee.irqCheck = true }
    }

    let state: UnsafeMutablePointer<CPUState>
    /// EAX, ECX, EDX, EBX, ESP, EBP, ESI, EDI.
    let gpr: UnsafeMutablePointer<UInt32>
    /// ES, CS, SS, DS, FS, GS (the x86 encoding order).
    let seg: UnsafeMutablePointer<SegmentCache>
    let tlb: SoftTLB
    /// x87 data registers (physical order) and control state.
    let fpr: UnsafeMutablePointer<Float80>
    let fpu: UnsafeMutablePointer<X87State>

    var retired: UInt64 = 0
    var nmiPending = false
    /// Exceptions being delivered, for #DF and the triple-fault message.
    var faultChain: [UInt8] = []
    var lastMappingGeneration: UInt64 = .max
    var lastA20: UInt32 = 0
    /// Model-specific registers the guest wrote that we accept (SYSENTER, TSC, ...).
    var msrs: [UInt32: UInt64] = [:]
    /// The guest wrote EFER (refused: no long mode), so a triple fault can say why.
    var longModeRefused = false
    var debugRegisters = [UInt32](repeating: 0, count: 8)
    /// DR0-DR3 enabled as instruction breakpoints, and as data breakpoints (bit i for DRi).
    var executionBreakpoints: UInt8 = 0
    var dataBreakpoints: UInt8 = 0
    /// Data breakpoints the current instruction touched: #DB after it.
    var dataBreakpointHits: UInt8 = 0
    /// TF was set when the current instruction began: #DB after it.
    var singleStepArmed = false
    /// The instruction just run loaded SS: debug traps wait one more instruction.
    var debugShadow = false
    var lastTSC: UInt64 = 0
    /// Machine time in nanoseconds for RDTSC, a 1 GHz time-stamp counter that keeps counting
    /// while the guest halts (QEMU's TCG follows virtual time the same way). Nil counts
    /// instructions retired instead (bare CPU tests).
    public var timeStamp: (() -> UInt64)?
    /// FERR# (x87 errors with CR0.NE = 0, MS-DOS compatibility): called with true when a waiting
    /// x87 instruction finds an unmasked exception pending (the CPU then waits for an interrupt),
    /// with false when the guest clears it. The PC routes it to IRQ 13.
    public var onFERR: ((Bool) -> Void)?
    /// IGNNE#: while true, a pending x87 exception with CR0.NE = 0 is ignored. The chipset sets it
    /// on a write to port 0xF0 and clears it when FERR# drops.
    public var ignoreNumericError = false
    var ferrAsserted = false

    public init(memory: MemoryMap, ports: PortMap) {
        self.memory = memory
        self.ports = ports
        state = .allocate(capacity: 1)
        state.initialize(to: CPUState())
        gpr = .allocate(capacity: 8)
        gpr.initialize(repeating: 0, count: 8)
        seg = .allocate(capacity: 6)
        seg.initialize(repeating: SegmentCache(), count: 6)
        tlb = SoftTLB()
        fpr = .allocate(capacity: 8)
        fpr.initialize(repeating: 0, count: 8)
        fpu = .allocate(capacity: 1)
        fpu.initialize(to: X87State())
        reset()
    }

    deinit {
        state.deallocate()
        gpr.deallocate()
        seg.deallocate()
        fpr.deallocate()
        fpu.deallocate()
    }

    public var instructionsRetired: UInt64 { retired }

    public func reset() {
        state.pointee = CPUState()
        for i in 0..<8 { gpr[i] = 0 }
        gpr[2] = 0x0000_0633 // EDX: family 6 model 3 stepping 3, as CPUID leaf 1 says
        for i in 0..<6 {
            seg[i] = SegmentCache(selector: 0, base: 0, limit: 0xFFFF, attr: SegmentCache.dataRealMode)
        }
        seg[SegReg.cs] = SegmentCache(selector: 0xF000, base: 0xFFFF_0000, limit: 0xFFFF, attr: SegmentCache.codeRealMode)
        state.pointee.eip = 0xFFF0
        nmiPending = false
        faultChain = []
        msrs = [:]
        longModeRefused = false
        debugRegisters = [UInt32](repeating: 0, count: 8)
        executionBreakpoints = 0
        dataBreakpoints = 0
        dataBreakpointHits = 0
        singleStepArmed = false
        debugShadow = false
        fninit()
        updateModes()
        flushTLB()
    }

    public func raiseNMI() {
        nmiPending = true
        state.pointee.irqCheck = true
    }

    // MARK: Run loop

    public func run(instructions: Int) -> BackendExit {
        let s = state
        syncMappings()
        s.pointee.irqCheck = true
        if s.pointee.halted {
            if !wakeable() { return s.pointee.flags & Flag.IF != 0 || nmiPending ? .halted : .haltedForever }
            s.pointee.halted = false
        }
        var left = instructions
        while left > 0 {
            if s.pointee.irqCheck, let exit = serviceInterrupts() { return finish(instructions - left, exit) }
            do {
                try step()
            } catch {
                if let exit = deliver(error) { return finish(instructions - left, exit) }
            }
            left &-= 1
            if _slowPath(s.pointee.stop) {
                s.pointee.stop = false
                if s.pointee.halted {
                    return finish(instructions - left, s.pointee.flags & Flag.IF != 0 ? .halted : .haltedForever)
                }
            }
        }
        return finish(instructions, .sliceExpired)
    }

    @inline(never)
    func finish(_ done: Int, _ exit: BackendExit) -> BackendExit {
        retired &+= UInt64(done)
        return exit
    }

    private func wakeable() -> Bool {
        if nmiPending { return true }
        return state.pointee.flags & Flag.IF != 0 && (interruptController?.interruptPending ?? false)
    }

    /// Called at an instruction boundary when something may have changed INTR, NMI or IF, and at
    /// every boundary while single-stepping or breakpoints are on.
    @inline(never)
    private func serviceInterrupts() -> BackendExit? {
        let s = state
        if debugShadow {
            debugShadow = false
        } else if watchingBoundaries, let event = debugEventAtBoundary() {
            return deliver(event)
        }
        if s.pointee.interruptShadow {
            s.pointee.interruptShadow = false
            return nil // irqCheck stays set: look again after the next instruction
        }
        s.pointee.irqCheck = watchingBoundaries
        if nmiPending {
            nmiPending = false
            return deliver(Fault(vector: 2, kind: .external))
        }
        if s.pointee.flags & Flag.IF != 0, let pic = interruptController, pic.interruptPending {
            let vector = pic.acknowledgeInterrupt()
            return deliver(Fault(vector: vector, kind: .external))
        }
        return nil
    }

    /// Re-reads what the host-pointer TLB depends on; called at slice start and after port I/O.
    @inline(never)
    func syncMappings() {
        if memory.mappingGeneration != lastMappingGeneration || memory.a20Mask != lastA20 {
            lastMappingGeneration = memory.mappingGeneration
            lastA20 = memory.a20Mask
            flushTLB()
        }
    }

    // MARK: Introspection

    public var registerDump: String {
        let names = ["EAX", "ECX", "EDX", "EBX", "ESP", "EBP", "ESI", "EDI"]
        var lines: [String] = []
        for i in 0..<8 { lines.append("\(names[i]) \(hex32(gpr[i]))") }
        lines.append("EIP \(hex32(state.pointee.eip))")
        lines.append("EFLAGS \(hex32(flagsValue()))")
        let segNames = ["ES", "CS", "SS", "DS", "FS", "GS"]
        for i in 0..<6 {
            let c = seg[i]
            lines.append("\(segNames[i]) \(hex16(c.selector)) base \(hex32(c.base)) limit \(hex32(c.limit)) attr \(hex16(c.attr))")
        }
        let st = state.pointee
        lines.append("CR0 \(hex32(st.cr0)) CR2 \(hex32(st.cr2)) CR3 \(hex32(st.cr3)) CR4 \(hex32(st.cr4))")
        lines.append("GDT \(hex32(st.gdtBase)) limit \(hex16(UInt16(truncatingIfNeeded: st.gdtLimit))) IDT \(hex32(st.idtBase)) limit \(hex16(UInt16(truncatingIfNeeded: st.idtLimit)))")
        lines.append("CPL \(st.cpl) retired \(retired)")
        return lines.joined(separator: "\n")
    }

    func hex32(_ v: UInt32) -> String {
        let s = String(v, radix: 16, uppercase: true)
        return String(repeating: "0", count: 8 - s.count) + s
    }

    func hex16(_ v: UInt16) -> String {
        let s = String(v, radix: 16, uppercase: true)
        return String(repeating: "0", count: 4 - s.count) + s
    }
}
