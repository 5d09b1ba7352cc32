/// Hardware task switches (Intel SDM vol. 3 §7.3): far JMP/CALL to a TSS or task gate, an
/// interrupt through a task gate, IRET with NT set; and the TSS's I/O permission bitmap.
extension Interpreter {
    enum TaskSwitchSource: Equatable {
        case jump
        case call
        /// An interrupt or exception through an IDT task gate; its error code goes on the new
        /// task's stack.
        case interrupt(errorCode: UInt32?, external: Bool)
        /// IRET with NT set: back to the task named by the current TSS's link field.
        case taskReturn
    }

    /// What a TSS holds for the task it describes, read in full before anything is written.
    private struct TaskImage {
        var cr3: UInt32?
        var eip: UInt32
        var flags: UInt32
        var gpr: [UInt32]
        /// ES, CS, SS, DS, FS, GS.
        var segments: [UInt16]
        var ldt: UInt16
        var debugTrap: Bool
    }

    /// A far JMP or CALL whose selector names a TSS or a task gate.
    func jumpOrCallTask(_ sel: UInt16, _ low: UInt32, _ high: UInt32, call: Bool) throws(Fault) {
        let d = SegmentCache(selector: sel, low: low, high: high)
        let code = UInt32(sel & 0xFFFC)
        if !d.visible(cpl: state.pointee.cpl) { throw Fault.gp(code) }
        switch d.type {
        case 0x5:
            if !d.present { throw Fault.np(code) }
            let tss = UInt16(truncatingIfNeeded: low >> 16)
            let (tl, th) = try taskDescriptor(tss, busy: false, ext: 0, invalid: Fault.gp)
            try switchTask(tss, tl, th, source: call ? .call : .jump)
        case 0x1, 0x9:
            if sel & 4 != 0 { throw Fault.gp(code) }
            if !d.present { throw Fault.np(code) }
            try switchTask(sel, low, high, source: call ? .call : .jump)
        default:
            throw Fault.gp(code) // a busy TSS, an LDT or an interrupt gate
        }
    }

    /// An interrupt or exception through an IDT task gate whose presence was checked.
    func interruptTask(gateLow: UInt32, ext: UInt32, errorCode: UInt32?) throws(Fault) {
        let tss = UInt16(truncatingIfNeeded: gateLow >> 16)
        let (tl, th) = try taskDescriptor(tss, busy: false, ext: ext, invalid: Fault.gp)
        try switchTask(tss, tl, th, source: .interrupt(errorCode: errorCode, external: ext != 0))
    }

    /// IRET with NT set, outside virtual-8086 mode.
    func returnFromNestedTask() throws(Fault) {
        let link = UInt16(truncatingIfNeeded: try readSystem(state.pointee.tr.base, 2))
        let (tl, th) = try taskDescriptor(link, busy: true, ext: 0, invalid: Fault.ts)
        try switchTask(link, tl, th, source: .taskReturn)
    }

    /// The GDT descriptor of the TSS a task gate or link field names: a TSS that is busy (IRET)
    /// or available (the others), present. `invalid` is the fault for a wrong selector or type.
    private func taskDescriptor(_ sel: UInt16, busy: Bool, ext: UInt32,
                                invalid: (UInt32) -> Fault) throws(Fault) -> (UInt32, UInt32) {
        let code = UInt32(sel & 0xFFFC) | ext
        if sel & 4 != 0 { throw invalid(code) }
        let (low, high) = try descriptor(sel) { invalid($0 | ext) }
        let d = SegmentCache(selector: sel, low: low, high: high)
        let isTSS = d.isSystem && d.type & 5 == 1 // 16- or 32-bit, available or busy
        if !isTSS || (d.type & 2 != 0) != busy { throw invalid(code) }
        if !d.present { throw Fault.np(code) }
        return (low, high)
    }

    /// Sets or clears the busy bit of a TSS descriptor as the GDT holds it now.
    private func setBusy(_ sel: UInt16, _ busy: Bool) throws(Fault) {
        let at = accessByteAddress(sel)
        let access = try readSystem(at, 1)
        try writeSystem(at, 1, busy ? access | 2 : access & ~2)
    }

    /// Saves the running task in its TSS and starts the one `sel` describes. Faults before the
    /// commit point leave the old task as it was; after it they belong to the new task.
    func switchTask(_ sel: UInt16, _ low: UInt32, _ high: UInt32, source: TaskSwitchSource) throws(Fault) {
        let s = state
        let new = SegmentCache(selector: sel, low: low, high: high)
        let new32 = new.type & 8 != 0
        if new.limit < (new32 ? 0x67 : 0x2B) { throw Fault.ts(UInt32(sel & 0xFFFC)) }
        let image = try readTaskImage(new.base, is32: new32)
        let old = s.pointee.tr
        let old32 = old.type & 8 != 0
        // Touch both ends of the old TSS so a page fault comes before anything changes.
        let oldEnd = old.base &+ (old32 ? 0x67 : 0x2B)
        try writeSystem(old.base, 1, try readSystem(old.base, 1))
        try writeSystem(oldEnd, 1, try readSystem(oldEnd, 1))

        if source == .jump || source == .taskReturn { try setBusy(old.selector, false) }
        var oldFlags = flagsValue()
        if source == .taskReturn { oldFlags &= ~Flag.NT }
        try saveTask(in: old.base, is32: old32, flags: oldFlags)
        var newFlags = image.flags
        if source != .jump && source != .taskReturn {
            try writeSystem(new.base, 2, UInt32(old.selector))
            newFlags |= Flag.NT
        }
        if source != .taskReturn { try setBusy(sel, true) }

        // Commit point.
        var tr = new
        tr.attr |= 2
        s.pointee.tr = tr
        s.pointee.cr0 |= CR0.ts
        if let cr3 = image.cr3, s.pointee.paging {
            s.pointee.cr3 = cr3
            flushTLB()
        }
        s.pointee.eip = image.eip
        s.pointee.startEIP = image.eip // a fault from here on restarts the new task
        for i in 0..<8 { gpr[i] = image.gpr[i] }
        writeFlags(newFlags, Flag.taskState)
        try loadTaskSegments(image)
        var external = false
        if case .interrupt(let errorCode, let ext) = source {
            if let errorCode { try push(errorCode, new32 ? 4 : 2) }
            external = ext
        }
        if image.eip > seg[SegReg.cs].limit { throw Fault.gp(external ? 1 : 0) }
        if image.debugTrap {
            debugRegisters[6] |= DR6.taskSwitch
            throw Fault(vector: 1, kind: .trap)
        }
    }

    private func readTaskImage(_ base: UInt32, is32: Bool) throws(Fault) -> TaskImage {
        if is32 {
            var regs: [UInt32] = []
            for i in 0..<8 { regs.append(try readSystem(base &+ 0x28 &+ UInt32(4 * i), 4)) }
            var segs: [UInt16] = []
            for i in 0..<6 { segs.append(UInt16(truncatingIfNeeded: try readSystem(base &+ 0x48 &+ UInt32(4 * i), 2))) }
            return TaskImage(cr3: try readSystem(base &+ 0x1C, 4), eip: try readSystem(base &+ 0x20, 4),
                             flags: try readSystem(base &+ 0x24, 4), gpr: regs, segments: segs,
                             ldt: UInt16(truncatingIfNeeded: try readSystem(base &+ 0x60, 2)),
                             debugTrap: try readSystem(base &+ 0x64, 2) & 1 != 0)
        }
        // A 16-bit TSS: the upper register halves read as ones (as on a 386), FS and GS null.
        var regs: [UInt32] = []
        for i in 0..<8 { regs.append(0xFFFF_0000 | (try readSystem(base &+ 0x12 &+ UInt32(2 * i), 2))) }
        var segs: [UInt16] = []
        for i in 0..<4 { segs.append(UInt16(truncatingIfNeeded: try readSystem(base &+ 0x22 &+ UInt32(2 * i), 2))) }
        return TaskImage(cr3: nil, eip: try readSystem(base &+ 0x0E, 2), flags: try readSystem(base &+ 0x10, 2),
                         gpr: regs, segments: segs + [0, 0],
                         ldt: UInt16(truncatingIfNeeded: try readSystem(base &+ 0x2A, 2)), debugTrap: false)
    }

    private func saveTask(in base: UInt32, is32: Bool, flags: UInt32) throws(Fault) {
        let eip = state.pointee.eip
        if is32 {
            try writeSystem(base &+ 0x20, 4, eip)
            try writeSystem(base &+ 0x24, 4, flags)
            for i in 0..<8 { try writeSystem(base &+ 0x28 &+ UInt32(4 * i), 4, gpr[i]) }
            for i in 0..<6 { try writeSystem(base &+ 0x48 &+ UInt32(4 * i), 2, UInt32(seg[i].selector)) }
        } else {
            try writeSystem(base &+ 0x0E, 2, eip)
            try writeSystem(base &+ 0x10, 2, flags)
            for i in 0..<8 { try writeSystem(base &+ 0x12 &+ UInt32(2 * i), 2, gpr[i]) }
            for i in 0..<4 { try writeSystem(base &+ 0x22 &+ UInt32(2 * i), 2, UInt32(seg[i].selector)) }
        }
    }

    /// Loads LDTR and the segment registers of the new task, each checked (Table 7-1): the
    /// selectors go in first so that a fault here is reported with the new task's selectors.
    private func loadTaskSegments(_ image: TaskImage) throws(Fault) {
        let s = state
        let vm86 = s.pointee.flags & Flag.VM != 0
        for i in 0..<6 { seg[i] = .null(image.segments[i]) }
        s.pointee.cpl = vm86 ? 3 : Int(image.segments[SegReg.cs] & 3)
        s.pointee.ldtr = SegmentCache(selector: image.ldt)
        updateModes()

        let ldt = image.ldt
        if ldt & 4 != 0 { throw Fault.ts(UInt32(ldt & 0xFFFC)) }
        if ldt & 0xFFFC != 0 {
            let (low, high) = try descriptor(ldt, outside: Fault.ts)
            let d = SegmentCache(selector: ldt, low: low, high: high)
            if !d.isSystem || d.type != 2 || !d.present { throw Fault.ts(UInt32(ldt & 0xFFFC)) }
            s.pointee.ldtr = d
        }
        if vm86 {
            for sg in [SegReg.es, SegReg.ss, SegReg.ds, SegReg.fs, SegReg.gs] { try loadSegment(sg, image.segments[sg]) }
            loadRealCS(image.segments[SegReg.cs])
            s.pointee.interruptShadow = false
            return
        }
        for sg in [SegReg.cs, SegReg.ss, SegReg.es, SegReg.ds, SegReg.fs, SegReg.gs] {
            try loadTaskSegment(sg, image.segments[sg])
        }
        updateModes()
    }

    private func loadTaskSegment(_ sg: Int, _ sel: UInt16) throws(Fault) {
        let code = UInt32(sel & 0xFFFC)
        if sel & 0xFFFC == 0 {
            if sg == SegReg.cs || sg == SegReg.ss { throw Fault.ts(code) }
            return // already null
        }
        let (low, high) = try descriptor(sel, outside: Fault.ts)
        let d = SegmentCache(selector: sel, low: low, high: high)
        let cpl = state.pointee.cpl
        let fits = switch sg {
        case SegReg.cs: d.fitsCode(rpl: Int(sel & 3))
        case SegReg.ss: d.fitsStack(cpl: cpl)
        default: d.fitsDataRegister(cpl: cpl)
        }
        if !fits { throw Fault.ts(code) }
        if !d.present { throw sg == SegReg.ss ? Fault.ss(code) : Fault.np(code) }
        try markAccessed(sel, high)
        seg[sg] = d
    }

    // MARK: I/O permission bitmap

    /// IN, OUT, INS and OUTS: allowed at CPL <= IOPL; otherwise (and always in virtual-8086
    /// mode) only if the TSS's I/O bitmap clears every bit of the ports touched.
    func checkPortAccess(_ port: UInt16, _ width: Int) throws(Fault) {
        let s = state
        guard s.pointee.protected, s.pointee.vm86 || s.pointee.cpl > Int((s.pointee.flags >> 12) & 3) else { return }
        let tr = s.pointee.tr
        if tr.type & 8 == 0 || tr.limit < 0x67 { throw Fault.gp() } // a 16-bit TSS has no bitmap
        let bitmap = try readSystem(tr.base &+ 0x66, 2)
        let byte = bitmap &+ UInt32(port >> 3)
        if byte &+ 1 > tr.limit { throw Fault.gp() }
        let bits = try readSystem(tr.base &+ byte, 2) >> UInt32(port & 7)
        if bits & ((1 << UInt32(width)) - 1) != 0 { throw Fault.gp() }
    }
}
