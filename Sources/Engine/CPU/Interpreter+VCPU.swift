import Synchronization

/// The interpreter as a `VCPU`: deadlines become instruction budgets, kicks go through the
/// stop flag the hot loop already reads, registers map to and from the segment caches.
extension Interpreter {
    /// The longest budget between two looks at the host clock in realtime mode.
    static let realtimeBudgetCap = 1 << 18

    /// Deterministic: (deadline - now) / ns per instruction, and the clock advances by what ran.
    /// Realtime: a budget from the measured rate, capped, re-checking the clock until the
    /// deadline. Without a clock, time is instructions retired.
    public func run(until deadline: UInt64) -> VCPUExit {
        if let (manual, ns) = deterministic {
            let now = manual.nanoseconds
            let budget = deadline > now ? (deadline - now + ns - 1) / ns : 1
            let before = retired
            let exit = run(instructions: Int(clamping: budget))
            manual.advance(by: (retired &- before) &* ns)
            return exit
        }
        guard let clock else {
            return run(instructions: Int(clamping: deadline > retired ? deadline - retired : 1))
        }
        while true {
            let now = clock.nanoseconds
            guard now < deadline else { return .deadlineReached }
            let wanted = Double(deadline - now) / 1000 * measuredRate
            let budget = Int(min(max(wanted, 1), Double(Interpreter.realtimeBudgetCap)))
            let before = retired
            let start = HostClock.monotonicNow()
            let exit = run(instructions: budget)
            guard exit == .deadlineReached else { return exit }
            let elapsed = HostClock.monotonicNow() &- start
            if elapsed > 10_000 { // too short a slice says nothing about the rate
                let rate = Double(retired &- before) / (Double(elapsed) / 1000)
                measuredRate = (measuredRate + rate) / 2
            }
        }
    }

    /// Any thread. The flag pair is ordered so that `stopped()` never loses a kick.
    public func kick() {
        kickPending.store(true, ordering: .sequentiallyConsistent)
        stopRequested.store(true, ordering: .sequentiallyConsistent)
    }

    /// INTR may have changed: look at it at the next instruction boundary. Called with the
    /// machine lock held, so never while `run` is on another thread.
    public func interruptRequestChanged() {
        state.pointee.irqCheck = true
    }

    /// Power-on, or INIT (SDM vol. 3 §9.1, table 9-1): INIT keeps the x87 state, the MSRs,
    /// the TSC and CR0.CD/NW. An application processor then waits for a startup IPI.
    public func reset(_ kind: VCPUResetKind) {
        let keptCR0 = kind == .initSignal ? state.pointee.cr0 & 0x6000_0000 : 0x6000_0000
        state.pointee = CPUState()
        state.pointee.cr0 = keptCR0 | 0x10
        for i in 0..<8 { gpr[i] = 0 }
        gpr[2] = CPUModel.interpreter.signature // EDX: the family, model and stepping of CPUID leaf 1
        for i in 0..<6 {
            seg[i] = SegmentCache(selector: 0, base: 0, limit: 0xFFFF, attr: SegmentCache.dataRealMode)
        }
        seg[SegReg.cs] = SegmentCache(selector: 0xF000, base: 0xFFFF_0000, limit: 0xFFFF, attr: SegmentCache.codeRealMode)
        state.pointee.eip = 0xFFF0
        nmiPending = false
        nmiBlocked = false
        debugRegisters = [UInt32](repeating: 0, count: 8)
        executionBreakpoints = 0
        dataBreakpoints = 0
        dataBreakpointHits = 0
        singleStepArmed = false
        debugShadow = false
        stopRequested.store(false, ordering: .relaxed)
        waitingForStartup = index != 0
        if kind == .powerOn {
            localAPIC?.reset()
            syncAPICPage()
            msrs = [:]
            longModeRefused = false
            ferrAsserted = false
            fninit()
            decoded.flush() // firmware and loaders write RAM without telling the cache
        }
        updateModes()
        flushTLB()
    }

    /// SIPI: real mode at vector << 12. Ignored unless the vCPU waits for one (SDM §8.4.4.1).
    public func startup(vector: UInt8) {
        guard waitingForStartup else { return }
        waitingForStartup = false
        seg[SegReg.cs] = SegmentCache(selector: UInt16(vector) << 8, base: UInt32(vector) << 12, limit: 0xFFFF,
                                      attr: SegmentCache.codeRealMode)
        state.pointee.eip = 0
        state.pointee.halted = false
        updateModes()
    }

    public var registers: VCPURegisters {
        get {
            var r = VCPURegisters()
            for i in 0..<8 { r.gpr[i] = UInt64(gpr[i]) }
            r.rip = UInt64(state.pointee.eip)
            r.rflags = UInt64(flagsValue())
            for i in 0..<6 { r.segments[i] = Interpreter.segment(seg[i]) }
            let s = state.pointee
            r.ldtr = Interpreter.segment(s.ldtr)
            r.tr = Interpreter.segment(s.tr)
            r.gdtBase = UInt64(s.gdtBase)
            r.gdtLimit = UInt16(truncatingIfNeeded: s.gdtLimit)
            r.idtBase = UInt64(s.idtBase)
            r.idtLimit = UInt16(truncatingIfNeeded: s.idtLimit)
            r.cr0 = UInt64(s.cr0)
            r.cr2 = UInt64(s.cr2)
            r.cr3 = UInt64(s.cr3)
            r.cr4 = UInt64(s.cr4)
            return r
        }
        set(r) {
            for i in 0..<8 { gpr[i] = UInt32(truncatingIfNeeded: r.gpr[i]) }
            for i in 0..<6 { seg[i] = Interpreter.segmentCache(r.segments[i]) }
            let s = state
            s.pointee.eip = UInt32(truncatingIfNeeded: r.rip)
            s.pointee.flags = UInt32(truncatingIfNeeded: r.rflags) | 0x2
            s.pointee.lazyOp = LazyOp.none
            s.pointee.ldtr = Interpreter.segmentCache(r.ldtr)
            s.pointee.tr = Interpreter.segmentCache(r.tr)
            s.pointee.gdtBase = UInt32(truncatingIfNeeded: r.gdtBase)
            s.pointee.gdtLimit = UInt32(r.gdtLimit)
            s.pointee.idtBase = UInt32(truncatingIfNeeded: r.idtBase)
            s.pointee.idtLimit = UInt32(r.idtLimit)
            s.pointee.cr0 = UInt32(truncatingIfNeeded: r.cr0) | 0x10
            s.pointee.cr2 = UInt32(truncatingIfNeeded: r.cr2)
            s.pointee.cr3 = UInt32(truncatingIfNeeded: r.cr3)
            s.pointee.cr4 = UInt32(truncatingIfNeeded: r.cr4)
            // CPL is SS.DPL in protected mode (as VMX and SVM keep it), 3 in virtual-8086 mode.
            s.pointee.cpl = s.pointee.cr0 & 1 == 0 ? 0 : (s.pointee.flags & Flag.VM != 0 ? 3 : seg[SegReg.ss].dpl)
            s.pointee.irqCheck = true
            updateModes()
            flushTLB()
            decoded.flush() // a restored state comes with memory written behind the cache's back
        }
    }

    private static func segment(_ c: SegmentCache) -> VCPUSegment {
        VCPUSegment(selector: c.selector, base: UInt64(c.base), limit: c.limit, attributes: c.attr, unusable: !c.usable)
    }

    private static func segmentCache(_ s: VCPUSegment) -> SegmentCache {
        if s.unusable { return .null(s.selector) }
        return SegmentCache(selector: s.selector, base: UInt32(truncatingIfNeeded: s.base), limit: s.limit, attr: s.attributes)
    }
}
