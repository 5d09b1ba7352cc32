import Synchronization

/// The x86 interpreter (Emulate mode): a 386-class CPU in real and protected mode.
///
/// Hot state lives behind `let` pointers (`state`, `gpr`, `seg`, the TLB arrays), so the hot
/// loop touches plain memory: no exclusivity checks, no ARC, no existentials. Instructions are
/// fetched through a per-page host pointer (the fetch window, which follows
/// `MemoryMap.mappingGeneration`, CR3 and A20) and decoded once into `DecodeCache`, which
/// guest stores and DMA into code invalidate. Faults are `Fault` values delivered by one
/// function, `deliver(_:)`.
public final class Interpreter: VCPU {
    public let index: Int
    public let memory: MemoryMap
    public let ports: PortMap
    public var interruptController: InterruptAcknowledge? {
        didSet { state.pointee.irqCheck = true }
    }
    /// The machine clock (RDTSC, realtime budgets); nil counts instructions instead (bare CPU tests).
    public let clock: MachineClock?
    /// Deterministic time: the interpreter advances this clock by this much per instruction.
    let deterministic: (clock: ManualClock, nanosecondsPerInstruction: UInt64)?
    /// Realtime budgets: instructions per host microsecond, measured over recent slices (from a
    /// low first guess, so that a slow host does not overrun its first deadline).
    var measuredRate: Double = 1

    /// The hot loop's one load per block: set by HLT, PAUSE, a waiting x87 error (each ends its
    /// block) and `kick()`. A relaxed atomic load is a plain load on x86 and ARM64.
    let stopRequested = Atomic<Bool>(false)
    /// Set by `kick()` (any thread) until `run` returns `.kicked`.
    let kickPending = Atomic<Bool>(false)

    let state: UnsafeMutablePointer<CPUState>
    /// EAX, ECX, EDX, EBX, ESP, EBP, ESI, EDI, then a register that stays 0 (the absent base or
    /// index of a decoded address, `DecodedInstruction.none`).
    let gpr: UnsafeMutablePointer<UInt32>
    /// ES, CS, SS, DS, FS, GS (the x86 encoding order).
    let seg: UnsafeMutablePointer<SegmentCache>
    let tlb: SoftTLB
    /// Decoded instructions, shared with the other CPUs of `memory`.
    let decoded: DecodeCache
    /// The `decoded.codeEpoch` this CPU's write TLB has caught up with.
    var codeEpoch: UInt64 = 0
    /// Opcode byte -> the hot switch's case (`HotOpcode.table`).
    let hotOps = HotOpcode.table
    /// x87 data registers (physical order) and control state.
    let fpr: UnsafeMutablePointer<Float80>
    let fpu: UnsafeMutablePointer<X87State>

    var retired: UInt64 = 0
    var nmiPending = false
    /// From an NMI's delivery to the next IRET a new NMI waits (SDM vol. 3 §6.7.1).
    var nmiBlocked = false
    /// What the last shutdown (triple fault) said.
    var shutdownMessage = ""
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
    /// An application processor after power-on or INIT: only a startup IPI starts it.
    var waitingForStartup = false
    /// The CPUID table: what this CPU reports implementing.
    public internal(set) var model = CPUModel.interpreter
    /// This CPU's local APIC (Interpreter+APIC), nil on a bare CPU.
    public internal(set) var localAPIC: LocalAPIC?
    /// The physical page of the APIC's registers as this CPU sees them, or 1 (never a page
    /// address) while it has none: the memory slow paths compare against it.
    var apicPage: UInt32 = 1
    /// With several CPUs taking turns on one thread, PAUSE (a spin-wait) ends the turn.
    public var yieldsOnPause = false
    /// FERR# and IGNNE# (x87 errors with CR0.NE = 0, MS-DOS compatibility): the PC's latch
    /// routes FERR# to IRQ 13 and drives IGNNE#. Nil on a bare CPU (FERR# goes nowhere).
    let coprocessorError: CoprocessorErrorLatch?
    var ferrAsserted = false

    /// A bare CPU on `memory` and `ports` (tests, benchmarks): no chipset; without a clock,
    /// time (RDTSC, `run(until:)`) is instructions retired.
    public convenience init(memory: MemoryMap, ports: PortMap, clock: MachineClock? = nil) {
        self.init(index: 0, memory: memory, ports: ports, clock: clock, deterministic: nil, coprocessorError: nil)
    }

    /// A vCPU of a machine: its clock (deterministic time advanced here), its PIC, its x87 latch.
    public convenience init(environment e: VCPUEnvironment) {
        var deterministic: (ManualClock, UInt64)?
        if case .deterministic(let ns) = e.timeMode, let manual = e.clock as? ManualClock { deterministic = (manual, ns) }
        self.init(index: e.index, memory: e.memory, ports: e.ports, clock: e.clock, deterministic: deterministic,
                  coprocessorError: e.coprocessorError)
        interruptController = e.interrupts
    }

    private init(index: Int, memory: MemoryMap, ports: PortMap, clock: MachineClock?,
                 deterministic: (clock: ManualClock, nanosecondsPerInstruction: UInt64)?,
                 coprocessorError: CoprocessorErrorLatch?) {
        self.index = index
        self.memory = memory
        self.ports = ports
        self.clock = clock
        self.deterministic = deterministic
        self.coprocessorError = coprocessorError
        state = .allocate(capacity: 1)
        state.initialize(to: CPUState())
        gpr = .allocate(capacity: 9)
        gpr.initialize(repeating: 0, count: 9)
        seg = .allocate(capacity: 6)
        seg.initialize(repeating: SegmentCache(), count: 6)
        tlb = SoftTLB()
        decoded = DecodeCache.attached(to: memory)
        fpr = .allocate(capacity: 8)
        fpr.initialize(repeating: 0, count: 8)
        fpu = .allocate(capacity: 1)
        fpu.initialize(to: X87State())
        reset(.powerOn)
    }

    deinit {
        state.deallocate()
        gpr.deallocate()
        seg.deallocate()
        fpr.deallocate()
        fpu.deallocate()
    }

    public var instructionsRetired: UInt64? { retired }

    public func raiseNMI() {
        nmiPending = true
        state.pointee.irqCheck = true
    }

    // MARK: Run loop

    /// Runs about `instructions` guest instructions (the budget `run(until:)` computes; tests
    /// and benchmarks call it directly). `.deadlineReached` means the budget ran out.
    public func run(instructions: Int) -> VCPUExit {
        let s = state
        syncMappings()
        s.pointee.irqCheck = true
        if kickPending.exchange(false, ordering: .acquiring) { return .kicked }
        if waitingForStartup { return .haltedForever }
        if s.pointee.halted {
            if !wakeable() { return s.pointee.flags & Flag.IF != 0 || nmiPending ? .halted : .haltedForever }
            s.pointee.halted = false
        }
        switch runLoop(instructions) {
        case .budgetSpent: return .deadlineReached
        case .kicked: return .kicked
        case .halted: return .halted
        case .haltedForever: return .haltedForever
        case .shutdown: return .shutdown(shutdownMessage)
        }
    }

    /// How the hot loop ended: one byte, so that the loop keeps no VCPUExit (a large value)
    /// in its frame.
    enum LoopExit {
        case budgetSpent, kicked, halted, haltedForever, shutdown
    }

    @inline(never)
    private func runLoop(_ instructions: Int) -> LoopExit {
        let s = state
        var left = instructions
        while left > 0 {
            if s.pointee.irqCheck, let message = serviceInterrupts() { return finish(instructions - left, shutdown: message) }
            // `irqCheck` still up: the loop must look again after the next instruction
            // (single-step, breakpoints, an interrupt shadow), so the block gets a budget of one.
            let held = s.pointee.irqCheck ? left &- 1 : 0
            left &-= held
            var fault: Fault?
            do {
                try runBlock(&left)
            } catch {
                fault = error
            }
            left &+= held
            if let fault {
                if let message = deliver(fault) { return finish(instructions - left, shutdown: message) }
                left &-= 1 // the faulting instruction counts as run
            }
            if _slowPath(stopRequested.load(ordering: .relaxed)), let exit = stopped() {
                return finish(instructions - left, exit)
            }
        }
        return finish(instructions, .budgetSpent)
    }

    /// The stop flag was up: a kick, or HLT (PAUSE only clears it, or ends the turn: `yieldsOnPause`).
    @inline(never)
    private func stopped() -> LoopExit? {
        stopRequested.store(false, ordering: .sequentiallyConsistent)
        // kick() sets kickPending before stopRequested, so a kick whose flag was just cleared is seen here.
        if kickPending.exchange(false, ordering: .sequentiallyConsistent) { return .kicked }
        guard state.pointee.halted else { return yieldsOnPause ? .kicked : nil }
        return state.pointee.flags & Flag.IF != 0 ? .halted : .haltedForever
    }

    @inline(never)
    func finish(_ done: Int, _ exit: LoopExit) -> LoopExit {
        retired &+= UInt64(done)
        return exit
    }

    @inline(never)
    func finish(_ done: Int, shutdown message: String) -> LoopExit {
        shutdownMessage = message
        return finish(done, .shutdown)
    }

    private func wakeable() -> Bool {
        if nmiPending && !nmiBlocked { return true }
        return state.pointee.flags & Flag.IF != 0 && (interruptController?.interruptPending ?? false)
    }

    /// Called at an instruction boundary when something may have changed INTR, NMI or IF, and at
    /// every boundary while single-stepping or breakpoints are on. Returns a shutdown's message.
    @inline(never)
    private func serviceInterrupts() -> String? {
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
        if nmiPending && !nmiBlocked {
            nmiPending = false
            nmiBlocked = true
            return deliver(Fault(vector: 2, kind: .external))
        }
        if s.pointee.flags & Flag.IF != 0, let pic = interruptController, pic.interruptPending {
            let vector = pic.acknowledgeInterrupt()
            return deliver(Fault(vector: vector, kind: .external))
        }
        return nil
    }

    /// Re-reads what the host-pointer TLB and the decode cache depend on; called at slice start
    /// and after port I/O.
    @inline(never)
    func syncMappings() {
        if memory.mappingGeneration != lastMappingGeneration || memory.a20Mask != lastA20 {
            lastMappingGeneration = memory.mappingGeneration
            lastA20 = memory.a20Mask
            flushTLB()
            decoded.flush()
        }
        if codeEpoch != decoded.codeEpoch {
            // Another CPU made a page a code page: drop fast write pointers that may reach it.
            codeEpoch = decoded.codeEpoch
            tlb.flushWrites()
        }
    }

    // MARK: Introspection

    /// `registers.dump` with what only the interpreter knows (tests print it on failure).
    public var registerDump: String {
        registers.dump + "\nCPL \(state.pointee.cpl) retired \(retired)"
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
