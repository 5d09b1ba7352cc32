/// Far control transfers: JMP/CALL far (code segments and call gates), RETF, IRET.
extension Interpreter {
    private var inRealAddressing: Bool { !state.pointee.protected || state.pointee.vm86 }

    func farJump(_ sel: UInt16, _ off: UInt32) throws(Fault) {
        let s = state
        if inRealAddressing {
            loadRealCS(sel)
            s.pointee.eip = off
            return
        }
        guard let (target, eip, cpl) = try resolveCodeTarget(sel, off, call: false) else { return }
        try loadCS(target.sel, target.low, target.high, cpl: cpl)
        s.pointee.eip = eip
    }

    func farCall(_ sel: UInt16, _ off: UInt32, _ w: Int) throws(Fault) {
        let s = state
        let oldCS = UInt32(seg[SegReg.cs].selector)
        let oldEIP = s.pointee.eip
        if inRealAddressing {
            try push(oldCS, w)
            try push(oldEIP, w)
            loadRealCS(sel)
            s.pointee.eip = off
            return
        }
        guard let (target, eip, newCPL) = try resolveCodeTarget(sel, off, call: true) else { return }
        let gateWidth = target.gateWidth ?? w
        try atomically { () throws(Fault) in
            if newCPL < s.pointee.cpl {
                // Call gate to an inner ring: switch to the TSS stack, copy parameters.
                let oldSS = UInt32(seg[SegReg.ss].selector)
                let oldESP = gpr[4]
                let params = target.paramCount
                var copied: [UInt32] = []
                for i in 0..<params { copied.append(try peek(i * gateWidth, gateWidth)) }
                let (ss, esp) = try tssStack(newCPL)
                s.pointee.cpl = newCPL
                try loadStackSegment(ss, cpl: newCPL, invalid: Fault.ts)
                gpr[4] = esp
                try push(oldSS, gateWidth)
                try push(oldESP, gateWidth)
                for v in copied.reversed() { try push(v, gateWidth) }
            }
            try push(oldCS, gateWidth)
            try push(oldEIP, gateWidth)
            try loadCS(target.sel, target.low, target.high, cpl: newCPL)
            s.pointee.eip = eip
        }
    }

    struct CodeTarget {
        var sel: UInt16
        var low: UInt32
        var high: UInt32
        var gateWidth: Int?
        var paramCount: Int
    }

    /// Checks a far JMP/CALL destination (a code segment or a call gate) and returns the code
    /// descriptor, the entry EIP and the CPL after the transfer; nil when the destination was a
    /// TSS or task gate and the task switch is done.
    private func resolveCodeTarget(_ sel: UInt16, _ off: UInt32, call: Bool) throws(Fault) -> (CodeTarget, UInt32, Int)? {
        let cpl = state.pointee.cpl
        if sel & 0xFFFC == 0 { throw Fault.gp(0) }
        let code = UInt32(sel & 0xFFFC)
        let (low, high) = try descriptor(sel)
        let d = SegmentCache(selector: sel, low: low, high: high)
        if !d.isSystem {
            if !d.isCode { throw Fault.gp(code) }
            let rpl = Int(sel & 3)
            if d.attr & 4 != 0 {
                if d.dpl > cpl { throw Fault.gp(code) }
            } else if rpl > cpl || d.dpl != cpl {
                throw Fault.gp(code)
            }
            if !d.present { throw Fault.np(code) }
            if off > d.limit { throw Fault.gp(0) }
            return (CodeTarget(sel: sel, low: low, high: high, gateWidth: nil, paramCount: 0), off, cpl)
        }
        switch d.type {
        case 0x4, 0xC:
            if d.dpl < cpl || d.dpl < Int(sel & 3) { throw Fault.gp(code) }
            if !d.present { throw Fault.np(code) }
            let targetSel = UInt16(truncatingIfNeeded: low >> 16)
            let entry = d.type == 0xC ? (low & 0xFFFF) | (high & 0xFFFF_0000) : low & 0xFFFF
            if targetSel & 0xFFFC == 0 { throw Fault.gp(0) }
            let (tl, th) = try descriptor(targetSel)
            let t = SegmentCache(selector: targetSel, low: tl, high: th)
            let tcode = UInt32(targetSel & 0xFFFC)
            if !t.isCode || t.isSystem || t.dpl > cpl { throw Fault.gp(tcode) }
            if !t.present { throw Fault.np(tcode) }
            let conforming = t.attr & 4 != 0
            let newCPL = call && !conforming ? t.dpl : cpl
            if !call && !conforming && t.dpl != cpl { throw Fault.gp(tcode) }
            let width = d.type == 0xC ? 4 : 2
            return (CodeTarget(sel: targetSel, low: tl, high: th, gateWidth: width, paramCount: Int(high & 0x1F)), entry, newCPL)
        default:
            try jumpOrCallTask(sel, low, high, call: call)
            return nil
        }
    }

    func farReturn(_ w: Int, _ release: UInt32) throws(Fault) {
        let s = state
        let eip = try peek(0, w)
        let sel = UInt16(truncatingIfNeeded: try peek(w, 2))
        if inRealAddressing {
            adjustSP(2 * w + Int(release))
            loadRealCS(sel)
            s.pointee.eip = eip
            return
        }
        let cpl = s.pointee.cpl
        let rpl = Int(sel & 3)
        let (low, high) = try returnCodeDescriptor(sel, cpl: cpl)
        try atomically { () throws(Fault) in
            if rpl == cpl {
                adjustSP(2 * w + Int(release))
                try loadCS(sel, low, high, cpl: cpl)
                s.pointee.eip = eip
                return
            }
            let base = 2 * w + Int(release)
            let newESP = try peek(base, w)
            let newSS = UInt16(truncatingIfNeeded: try peek(base + w, 2))
            try loadCS(sel, low, high, cpl: rpl)
            try loadStackSegment(newSS, cpl: rpl, invalid: Fault.gp)
            gpr[4] = w == 4 ? newESP : (gpr[4] & 0xFFFF_0000) | (newESP & 0xFFFF)
            adjustSP(Int(release))
            s.pointee.eip = eip
            dropPrivilegedSegments()
        }
    }

    /// The checks on the code segment a far RET or IRET returns to: not null, the same or an
    /// outer ring, code (conforming: DPL <= RPL, else DPL == RPL), present. Its descriptor.
    private func returnCodeDescriptor(_ sel: UInt16, cpl: Int) throws(Fault) -> (UInt32, UInt32) {
        let rpl = Int(sel & 3)
        if sel & 0xFFFC == 0 { throw Fault.gp(0) }
        let code = UInt32(sel & 0xFFFC)
        if rpl < cpl { throw Fault.gp(code) }
        let (low, high) = try descriptor(sel)
        let d = SegmentCache(selector: sel, low: low, high: high)
        if !d.fitsCode(rpl: rpl) { throw Fault.gp(code) }
        if !d.present { throw Fault.np(code) }
        return (low, high)
    }

    func iret(_ w: Int) throws(Fault) {
        let s = state
        if nmiBlocked { // an NMI that came meanwhile is taken after this IRET
            nmiBlocked = false
            if nmiPending { s.pointee.irqCheck = true }
        }
        if inRealAddressing {
            if s.pointee.vm86 && (s.pointee.flags & Flag.IOPL) != Flag.IOPL { throw Fault.gp() }
            let eip = try peek(0, w)
            let sel = UInt16(truncatingIfNeeded: try peek(w, 2))
            let flags = try peek(2 * w, w)
            adjustSP(3 * w)
            loadRealCS(sel)
            s.pointee.eip = eip
            var writable: UInt32 = Flag.arith | Flag.TF | Flag.IF | Flag.DF | Flag.NT | Flag.AC | Flag.ID
            if !s.pointee.vm86 { writable |= Flag.IOPL }
            writeFlags(flags, w == 2 ? writable & 0xFFFF : writable)
            return
        }
        if s.pointee.flags & Flag.NT != 0 {
            try returnFromNestedTask()
            return
        }
        let cpl = s.pointee.cpl
        let eip = try peek(0, w)
        let sel = UInt16(truncatingIfNeeded: try peek(w, 2))
        let flags = try peek(2 * w, w)
        if w == 4 && flags & Flag.VM != 0 && cpl == 0 {
            try atomically { () throws(Fault) in try returnToVM86(eip, sel, flags) }
            return
        }
        let rpl = Int(sel & 3)
        let (low, high) = try returnCodeDescriptor(sel, cpl: cpl)
        var writable: UInt32 = Flag.arith | Flag.TF | Flag.DF | Flag.NT | Flag.AC | Flag.ID | Flag.RF
        if cpl == 0 { writable |= Flag.IOPL }
        if cpl <= Int((s.pointee.flags >> 12) & 3) { writable |= Flag.IF }
        if w == 2 { writable &= 0xFFFF }
        try atomically { () throws(Fault) in
            if rpl == cpl {
                adjustSP(3 * w)
                try loadCS(sel, low, high, cpl: cpl)
            } else {
                let newESP = try peek(3 * w, w)
                let newSS = UInt16(truncatingIfNeeded: try peek(4 * w, 2))
                try loadCS(sel, low, high, cpl: rpl)
                try loadStackSegment(newSS, cpl: rpl, invalid: Fault.gp)
                gpr[4] = w == 4 ? newESP : (gpr[4] & 0xFFFF_0000) | (newESP & 0xFFFF)
                dropPrivilegedSegments()
            }
        }
        s.pointee.eip = eip
        writeFlags(flags, writable)
    }

    private func returnToVM86(_ eip: UInt32, _ sel: UInt16, _ flags: UInt32) throws(Fault) {
        let s = state
        var values: [UInt32] = []
        for i in 3..<9 { values.append(try peek(i * 4, 4)) }
        writeFlags(flags, 0x003F_7FD5 | Flag.VM)
        s.pointee.cpl = 3
        updateModes()
        for (i, sg) in [SegReg.es, SegReg.ds, SegReg.fs, SegReg.gs].enumerated() {
            try loadSegment(sg, UInt16(truncatingIfNeeded: values[2 + i]))
        }
        try loadSegment(SegReg.ss, UInt16(truncatingIfNeeded: values[1]))
        gpr[4] = values[0]
        loadRealCS(sel)
        s.pointee.eip = eip & 0xFFFF
    }
}
