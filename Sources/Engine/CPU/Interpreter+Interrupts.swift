/// Exception and interrupt delivery: the IVT in real mode, IDT gates in protected mode,
/// double and triple faults.
extension Interpreter {
    /// The one place a `Fault` becomes guest-visible. Returns the shutdown message when the
    /// machine cannot go on (a triple fault).
    @inline(never)
    func deliver(_ first: Fault) -> String? {
        let s = state
        if first.kind == .fault { s.pointee.eip = s.pointee.startEIP }
        singleStepArmed = false // the handler starts with TF clear; a faulting instruction is not stepped
        s.pointee.halted = false
        let eipAtFault = s.pointee.eip
        let csAtFault = seg[SegReg.cs].selector
        var event = first
        // The vectors being delivered, for #DF and the shutdown message: a value, so that
        // delivering an interrupt allocates nothing.
        var chain = SIMD16<UInt8>()
        chain[0] = first.vector
        var depth = 1
        while true {
            do {
                try enterInterrupt(event)
                return nil
            } catch {
                if event.vector == 8 || depth > 8 {
                    chain[depth] = error.vector
                    let names = (0...depth).map { "#\(Interpreter.exceptionName(chain[$0]))" }
                    return "\(names.joined(separator: " -> ")) at \(hex16(csAtFault)):\(hex32(eipAtFault)) (shutdown)" + (longModeRefused ? Interpreter.longModeHint : "")
                }
                // A double fault (SDM vol. 3 table 6-5): a contributory fault while delivering
                // a contributory fault or #PF, or a #PF while delivering a #PF. Anything else
                // (after a benign event, or a #PF while delivering a contributory fault) is
                // simply delivered next.
                // A fault while delivering INT n, INT3 or INTO points back at that instruction.
                if event.kind == .software || event.kind == .trap { s.pointee.eip = s.pointee.startEIP }
                let firstIsException = event.kind != .external && event.kind != .software
                let double = firstIsException && (Interpreter.isContributory(event.vector)
                    ? Interpreter.isContributory(error.vector)
                    : event.vector == 14 && (Interpreter.isContributory(error.vector) || error.vector == 14))
                event = double ? Fault(vector: 8, errorCode: 0, hasErrorCode: true) : error
                chain[depth] = event.vector
                depth += 1
            }
        }
    }

    /// #DE, #TS, #NP, #SS and #GP: the contributory exceptions of SDM vol. 3 table 6-4.
    static func isContributory(_ vector: UInt8) -> Bool {
        vector == 0 || (10...13).contains(vector)
    }

    static func exceptionName(_ v: UInt8) -> String {
        let names = ["DE", "DB", "NMI", "BP", "OF", "BR", "UD", "NM", "DF", "9", "TS", "NP", "SS", "GP", "PF", "15", "MF", "AC"]
        return Int(v) < names.count ? names[Int(v)] : "INT \(v)"
    }

    /// Pushes the frame and transfers to the handler of `f.vector`.
    func enterInterrupt(_ f: Fault) throws(Fault) {
        let s = state
        let vector = UInt32(f.vector)
        if !s.pointee.protected {
            if vector * 4 + 3 > s.pointee.idtLimit { throw Fault.gp() }
            let entry = try readSystem(s.pointee.idtBase &+ vector * 4, 4)
            try push(flagsValue(), 2)
            try push(UInt32(seg[SegReg.cs].selector), 2)
            try push(s.pointee.eip, 2)
            s.pointee.flags &= ~(Flag.IF | Flag.TF | Flag.AC | Flag.RF)
            loadRealCS(UInt16(entry >> 16))
            s.pointee.eip = entry & 0xFFFF
            return
        }
        let ext: UInt32 = f.kind == .external ? 1 : 0
        let gateCode = vector * 8 + 2 + ext
        if vector * 8 + 7 > s.pointee.idtLimit { throw Fault.gp(gateCode) }
        let low = try readSystem(s.pointee.idtBase &+ vector * 8, 4)
        let high = try readSystem(s.pointee.idtBase &+ vector * 8 &+ 4, 4)
        let type = (high >> 8) & 0x1F
        let dpl = Int((high >> 13) & 3)
        if f.kind == .software && s.pointee.vm86 && (s.pointee.flags & Flag.IOPL) != Flag.IOPL {
            throw Fault.gp(0) // INT n in virtual-8086 mode needs IOPL 3 (the monitor emulates it)
        }
        if f.kind == .software && dpl < s.pointee.cpl { throw Fault.gp(gateCode) }
        // Task gates (5), 16- and 32-bit interrupt and trap gates (6, 7, 14, 15).
        if (0xC0E0 >> type) & 1 == 0 { throw Fault.gp(gateCode) }
        if high & 0x8000 == 0 { throw Fault.np(gateCode) }
        if type == 0x5 {
            try interruptTask(gateLow: low, ext: ext, errorCode: f.hasErrorCode ? f.errorCode : nil)
            return
        }
        let sel = UInt16(truncatingIfNeeded: low >> 16)
        let entry = type & 8 != 0 ? (low & 0xFFFF) | (high & 0xFFFF_0000) : low & 0xFFFF
        let w = type & 8 != 0 ? 4 : 2
        if sel & 0xFFFC == 0 { throw Fault.gp(ext) }
        let selCode = UInt32(sel & 0xFFFC) + ext
        let (cl, ch) = try descriptor(sel)
        let c = SegmentCache(selector: sel, low: cl, high: ch)
        if c.isSystem || !c.isCode || c.dpl > s.pointee.cpl { throw Fault.gp(selCode) }
        if !c.present { throw Fault.np(selCode) }
        let oldFlags = flagsValue()
        let oldCS = UInt32(seg[SegReg.cs].selector)
        let oldEIP = s.pointee.eip
        let wasVM86 = s.pointee.vm86
        try atomically { () throws(Fault) in
            if c.attr & 4 == 0 && c.dpl < s.pointee.cpl {
                // Inner ring: the handler's stack comes from the TSS.
                let oldSS = UInt32(seg[SegReg.ss].selector)
                let oldESP = gpr[4]
                let (ss, esp) = try tssStack(c.dpl)
                let savedSeg = (seg[SegReg.es].selector, seg[SegReg.ds].selector, seg[SegReg.fs].selector, seg[SegReg.gs].selector)
                s.pointee.cpl = c.dpl
                s.pointee.flags &= ~Flag.VM
                updateModes()
                try loadStackSegment(ss, cpl: c.dpl, invalid: { Fault.ts($0 | ext) })
                gpr[4] = esp
                if wasVM86 {
                    try push(UInt32(savedSeg.3), w)
                    try push(UInt32(savedSeg.2), w)
                    try push(UInt32(savedSeg.1), w)
                    try push(UInt32(savedSeg.0), w)
                    for sg in [SegReg.es, SegReg.ds, SegReg.fs, SegReg.gs] {
                        seg[sg] = .null(0)
                    }
                }
                try push(oldSS, w)
                try push(oldESP, w)
            } else if wasVM86 {
                throw Fault.gp(selCode)
            }
            try push(oldFlags, w)
            try push(oldCS, w)
            try push(oldEIP, w)
            if f.hasErrorCode { try push(f.errorCode, w) }
            try loadCS(sel, cl, ch, cpl: c.attr & 4 != 0 ? s.pointee.cpl : c.dpl)
            s.pointee.eip = entry
            s.pointee.flags &= ~(Flag.TF | Flag.NT | Flag.RF | Flag.VM)
            if type & 1 == 0 { s.pointee.flags &= ~Flag.IF }
            updateModes()
        }
    }
}
