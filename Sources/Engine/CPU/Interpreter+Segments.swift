/// Segmentation: descriptor tables, segment register loads, the modes they imply.
extension Interpreter {
    /// Recomputes the cached mode bits from CR0, EFLAGS.VM and the CS/SS caches.
    func updateModes() {
        let s = state
        let oldPaging = s.pointee.paging
        s.pointee.protected = s.pointee.cr0 & 1 != 0
        s.pointee.vm86 = s.pointee.protected && s.pointee.flags & Flag.VM != 0
        s.pointee.paging = s.pointee.protected && s.pointee.cr0 & 0x8000_0000 != 0
        if !s.pointee.protected { s.pointee.cpl = 0 } else if s.pointee.vm86 { s.pointee.cpl = 3 }
        s.pointee.code32 = !s.pointee.vm86 && seg[SegReg.cs].is32
        s.pointee.stack32 = !s.pointee.vm86 && seg[SegReg.ss].is32
        s.pointee.fetchLen = 0 // CS base or code size may have changed
        // The TLB holds pointers checked for one privilege level (callers may have set `cpl`
        // before calling, so compare with what the TLB was filled for).
        let user = s.pointee.cpl == 3
        if s.pointee.paging && user != s.pointee.tlbUser || oldPaging != s.pointee.paging { flushTLB() }
        s.pointee.tlbUser = user
        s.pointee.alignmentCheck = user && s.pointee.protected && s.pointee.cr0 & CR0.am != 0 && s.pointee.flags & Flag.AC != 0
        let checked = s.pointee.alignmentCheck || dataBreakpoints != 0
        if checked != s.pointee.checkedAccess {
            s.pointee.checkedAccess = checked
            flushTLB()
        }
    }

    // MARK: System-table access (always supervisor, never cached in the TLB)

    func readSystem(_ lin: UInt32, _ width: Int) throws(Fault) -> UInt32 {
        if Int(lin & 0xFFF) > 4096 - width {
            var v: UInt32 = 0
            for k in 0..<width { v |= try readSystem(lin &+ UInt32(k), 1) << UInt32(8 * k) }
            return v
        }
        let phys = state.pointee.paging ? try walk(lin, write: false, user: false) : lin
        return memory.read(phys & memory.a20Mask, width: width)
    }

    func writeSystem(_ lin: UInt32, _ width: Int, _ value: UInt32) throws(Fault) {
        let phys = state.pointee.paging ? try walk(lin, write: true, user: false) : lin
        memory.write(phys & memory.a20Mask, width: width, value: value)
    }

    /// The descriptor `sel` names, as (low, high) dwords; #GP(sel) beyond the table limit.
    /// `outside` is the fault for a selector beyond its table (given the selector's error
    /// code): #GP, or #TS while a task switch loads the new task's selectors.
    func descriptor(_ sel: UInt16, outside: (UInt32) -> Fault = Fault.gp) throws(Fault) -> (UInt32, UInt32) {
        let s = state
        let index = UInt32(sel & 0xFFF8)
        let base: UInt32
        let limit: UInt32
        if sel & 4 != 0 {
            base = s.pointee.ldtr.base
            limit = s.pointee.ldtr.present ? s.pointee.ldtr.limit : 0
            if !s.pointee.ldtr.present { throw outside(UInt32(sel & 0xFFFC)) }
        } else {
            base = s.pointee.gdtBase
            limit = s.pointee.gdtLimit
        }
        if index + 7 > limit { throw outside(UInt32(sel & 0xFFFC)) }
        return (try readSystem(base &+ index, 4), try readSystem(base &+ index &+ 4, 4))
    }

    /// Where byte 5 (type, S, DPL, P) of the descriptor `sel` names sits.
    func accessByteAddress(_ sel: UInt16) -> UInt32 {
        (sel & 4 != 0 ? state.pointee.ldtr.base : state.pointee.gdtBase) &+ UInt32(sel & 0xFFF8) &+ 5
    }

    /// Sets the accessed bit of a segment descriptor (guests such as Linux rely on it only
    /// for statistics, but writing it keeps GDTs in RAM honest).
    func markAccessed(_ sel: UInt16, _ high: UInt32) throws(Fault) {
        if high & 0x100 != 0 { return }
        try writeSystem(accessByteAddress(sel), 1, ((high >> 8) & 0xFF) | 1)
    }

    /// MOV/POP/LxS to a data or stack segment register.
    func loadSegment(_ sg: Int, _ sel: UInt16) throws(Fault) {
        let s = state
        if !s.pointee.protected || s.pointee.vm86 {
            seg[sg].selector = sel
            seg[sg].base = UInt32(sel) << 4
            if s.pointee.vm86 {
                seg[sg].limit = 0xFFFF
                seg[sg].attr = 0xF3
            } else if !seg[sg].usable {
                // Real mode keeps the limit and attributes, but a register left null by
                // protected mode becomes usable again (as on hardware).
                seg[sg].limit = 0xFFFF
                seg[sg].attr = SegmentCache.dataRealMode
            }
            if sg == SegReg.ss { stackSwitchShadow() }
            return
        }
        let code = UInt32(sel & 0xFFFC)
        if sel & 0xFFFC == 0 {
            if sg == SegReg.ss { throw Fault.gp(0) }
            seg[sg] = .null(sel)
            return
        }
        let (low, high) = try descriptor(sel)
        let c = SegmentCache(selector: sel, low: low, high: high)
        let cpl = s.pointee.cpl
        if sg == SegReg.ss {
            if !c.fitsStack(cpl: cpl) { throw Fault.gp(code) }
            if !c.present { throw Fault.ss(code) }
        } else {
            if !c.fitsDataRegister(cpl: cpl) { throw Fault.gp(code) }
            if !c.present { throw Fault.np(code) }
        }
        try markAccessed(sel, high)
        seg[sg] = c
        if sg == SegReg.ss {
            updateModes()
            stackSwitchShadow()
        }
    }

    /// After MOV SS or POP SS, so that SS:ESP can be set in two instructions, interrupts and
    /// debug traps wait until the next instruction has run.
    private func stackSwitchShadow() {
        state.pointee.interruptShadow = true
        state.pointee.irqCheck = true
        debugShadow = true
    }

    /// Loads CS for a control transfer whose checks were done by the caller.
    func loadCS(_ sel: UInt16, _ low: UInt32, _ high: UInt32, cpl: Int) throws(Fault) {
        try markAccessed(sel, high)
        var c = SegmentCache(selector: sel, low: low, high: high)
        c.selector = (sel & 0xFFFC) | UInt16(cpl)
        seg[SegReg.cs] = c
        state.pointee.cpl = cpl
        updateModes()
    }

    /// CS in real and virtual-8086 mode: base = selector*16, the rest of the cache kept.
    func loadRealCS(_ sel: UInt16) {
        seg[SegReg.cs].selector = sel
        seg[SegReg.cs].base = UInt32(sel) << 4
        if state.pointee.vm86 {
            seg[SegReg.cs].limit = 0xFFFF
            seg[SegReg.cs].attr = 0xFB
        }
        updateModes()
    }

    /// After a return to an outer ring: data segments the new CPL may not use become null.
    func dropPrivilegedSegments() {
        let cpl = state.pointee.cpl
        for sg in [SegReg.es, SegReg.ds, SegReg.fs, SegReg.gs] {
            let c = seg[sg]
            if !c.isConformingCode && c.dpl < cpl {
                seg[sg] = .null(0)
            }
        }
    }

    /// Loads SS for a ring change: writable data with RPL = DPL = the new CPL, present.
    /// `invalid` is the fault for a selector that fails (#TS for a TSS stack, #GP for RET/IRET).
    func loadStackSegment(_ sel: UInt16, cpl: Int, invalid: (UInt32) -> Fault) throws(Fault) {
        let code = UInt32(sel & 0xFFFC)
        if code == 0 { throw invalid(0) }
        let (low, high) = try descriptor(sel)
        let c = SegmentCache(selector: sel, low: low, high: high)
        if !c.fitsStack(cpl: cpl) { throw invalid(code) }
        if !c.present { throw Fault.ss(code) }
        try markAccessed(sel, high)
        seg[SegReg.ss] = c
        updateModes()
    }

    /// The registers a far transfer changes one by one. A transfer that faults halfway is
    /// undone, so the handler sees the state from before it (as on hardware).
    struct TransferCheckpoint {
        var segments: (SegmentCache, SegmentCache, SegmentCache, SegmentCache, SegmentCache, SegmentCache)
        var esp: UInt32
        var eip: UInt32
        var flags: UInt32
        var cpl: Int
    }

    func checkpoint() -> TransferCheckpoint {
        TransferCheckpoint(segments: (seg[0], seg[1], seg[2], seg[3], seg[4], seg[5]), esp: gpr[4],
                           eip: state.pointee.eip, flags: flagsValue(), cpl: state.pointee.cpl)
    }

    func rollBack(to c: TransferCheckpoint) {
        (seg[0], seg[1], seg[2], seg[3], seg[4], seg[5]) = c.segments
        gpr[4] = c.esp
        state.pointee.eip = c.eip
        state.pointee.flags = c.flags
        state.pointee.lazyOp = LazyOp.none
        state.pointee.cpl = c.cpl
        updateModes()
    }

    /// Runs `transfer`, rolling the registers back if it faults.
    func atomically(_ transfer: () throws(Fault) -> Void) throws(Fault) {
        let saved = checkpoint()
        do {
            try transfer()
        } catch {
            rollBack(to: saved)
            throw error
        }
    }

    /// The ring-`dpl` stack pointer from the current TSS.
    func tssStack(_ dpl: Int) throws(Fault) -> (UInt16, UInt32) {
        let tr = state.pointee.tr
        if tr.type == 0x9 || tr.type == 0xB {
            let at = UInt32(4 + dpl * 8)
            if at + 5 > tr.limit { throw Fault.ts(UInt32(tr.selector & 0xFFFC)) }
            let esp = try readSystem(tr.base &+ at, 4)
            let ss = try readSystem(tr.base &+ at &+ 4, 2)
            return (UInt16(ss), esp)
        }
        let at = UInt32(2 + dpl * 4)
        if at + 3 > tr.limit { throw Fault.ts(UInt32(tr.selector & 0xFFFC)) }
        let sp = try readSystem(tr.base &+ at, 2)
        let ss = try readSystem(tr.base &+ at &+ 2, 2)
        return (UInt16(ss), sp)
    }

    /// ARPL (protected mode only).
    func arpl() throws(Fault) {
        if !state.pointee.protected || state.pointee.vm86 { throw Fault.ud }
        try decodeModRM()
        let dst = try readRM(2)
        let src = reg(regField, 2)
        if dst & 3 < src & 3 {
            try writeRM(2, (dst & ~3) | (src & 3))
            setFlag(Flag.ZF, true)
        } else {
            setFlag(Flag.ZF, false)
        }
    }
}
