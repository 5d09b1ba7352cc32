/// System instructions: descriptor-table registers, control registers, MSRs, CPUID, TSC.
extension Interpreter {
    func requireCPL0() throws(Fault) {
        if state.pointee.protected && state.pointee.cpl != 0 { throw Fault.gp() }
    }

    private func requireProtected() throws(Fault) {
        if !state.pointee.protected || state.pointee.vm86 { throw Fault.ud }
    }

    /// 0F 00: SLDT STR LLDT LTR VERR VERW.
    func group6() throws(Fault) {
        let s = state
        try requireProtected()
        try decodeModRM()
        switch regField {
        case 0: try writeRM(rmIsReg ? (s.pointee.opsize32 ? 4 : 2) : 2, UInt32(s.pointee.ldtr.selector))
        case 1: try writeRM(rmIsReg ? (s.pointee.opsize32 ? 4 : 2) : 2, UInt32(s.pointee.tr.selector))
        case 2:
            try requireCPL0()
            let sel = UInt16(truncatingIfNeeded: try readRM(2))
            if sel & 0xFFFC == 0 { s.pointee.ldtr = SegmentCache(); return }
            if sel & 4 != 0 { throw Fault.gp(UInt32(sel & 0xFFFC)) }
            let (low, high) = try descriptor(sel)
            let d = SegmentCache(selector: sel, low: low, high: high)
            if !d.isSystem || d.type != 2 { throw Fault.gp(UInt32(sel & 0xFFFC)) }
            if !d.present { throw Fault.np(UInt32(sel & 0xFFFC)) }
            s.pointee.ldtr = d
        case 3:
            try requireCPL0()
            let sel = UInt16(truncatingIfNeeded: try readRM(2))
            if sel & 0xFFFC == 0 || sel & 4 != 0 { throw Fault.gp(UInt32(sel & 0xFFFC)) }
            let (low, high) = try descriptor(sel)
            let d = SegmentCache(selector: sel, low: low, high: high)
            if !d.isSystem || (d.type != 1 && d.type != 9) { throw Fault.gp(UInt32(sel & 0xFFFC)) }
            if !d.present { throw Fault.np(UInt32(sel & 0xFFFC)) }
            try writeSystem(accessByteAddress(sel), 1, ((high >> 8) & 0xFF) | 2) // busy
            var busy = d
            busy.attr |= 2
            s.pointee.tr = busy
        case 4, 5:
            let sel = UInt16(truncatingIfNeeded: try readRM(2))
            var ok = false
            if sel & 0xFFFC != 0, let (low, high) = try? descriptor(sel) {
                let d = SegmentCache(selector: sel, low: low, high: high)
                if !d.isSystem && d.visible(cpl: s.pointee.cpl) {
                    ok = regField == 4 ? (!d.isCode || d.attr & 2 != 0) : (!d.isCode && d.attr & 2 != 0)
                }
            }
            setFlag(Flag.ZF, ok)
        default: throw Fault.ud
        }
    }

    /// 0F 01: SGDT SIDT LGDT LIDT SMSW LMSW INVLPG.
    func group7(_ w: Int) throws(Fault) {
        let s = state
        try decodeModRM()
        let sub = regField
        if rmIsReg && sub != 4 && sub != 6 { throw Fault.ud }
        switch sub {
        case 0, 1:
            let base = sub == 0 ? s.pointee.gdtBase : s.pointee.idtBase
            let limit = sub == 0 ? s.pointee.gdtLimit : s.pointee.idtLimit
            try writeEA(0, 2, limit)
            try writeEA(2, 4, w == 2 ? base & 0x00FF_FFFF : base)
        case 2, 3:
            try requireCPL0()
            let limit = try readEA(0, 2)
            var base = try readEA(2, 4)
            if w == 2 { base &= 0x00FF_FFFF }
            if sub == 2 { s.pointee.gdtBase = base; s.pointee.gdtLimit = limit } else { s.pointee.idtBase = base; s.pointee.idtLimit = limit }
        case 4:
            try writeRM(rmIsReg ? w : 2, s.pointee.cr0 & (w == 4 && rmIsReg ? 0xFFFF_FFFF : 0xFFFF))
        case 6:
            try requireCPL0()
            let v = try readRM(2)
            // LMSW sets PE but cannot clear it.
            try setCR0((s.pointee.cr0 & ~UInt32(0xE)) | (v & 0xF) | (s.pointee.cr0 & 1))
        case 7:
            try requireCPL0()
            invalidatePage(seg[s.pointee.eaSeg].base &+ s.pointee.eaOffset)
        default: throw Fault.ud
        }
    }

    /// LAR and LSL.
    func loadAccessOrLimit(lsl: Bool, _ w: Int) throws(Fault) {
        let s = state
        try requireProtected()
        try decodeModRM()
        let sel = UInt16(truncatingIfNeeded: try readRM(2))
        guard sel & 0xFFFC != 0, let (low, high) = try? descriptor(sel) else {
            setFlag(Flag.ZF, false)
            return
        }
        let d = SegmentCache(selector: sel, low: low, high: high)
        var valid = d.visible(cpl: s.pointee.cpl)
        if d.isSystem {
            let allowed: Set<Int> = lsl ? [1, 2, 3, 9, 0xB] : [1, 2, 3, 4, 5, 9, 0xB, 0xC]
            valid = valid && allowed.contains(d.type)
        }
        setFlag(Flag.ZF, valid)
        if valid { setReg(regField, w, lsl ? d.limit : high & 0x00FF_FF00) }
    }

    // MARK: Control and debug registers

    func moveControl(_ op: UInt32) throws(Fault) {
        let s = state
        try requireCPL0()
        if s.pointee.vm86 { throw Fault.gp() }
        let modrm = try fetch8()
        let n = Int((modrm >> 3) & 7)
        let r = Int(modrm & 7)
        switch op {
        case 0x20:
            switch n {
            case 0: gpr[r] = s.pointee.cr0
            case 2: gpr[r] = s.pointee.cr2
            case 3: gpr[r] = s.pointee.cr3
            case 4: gpr[r] = s.pointee.cr4
            default: throw Fault.ud
            }
        case 0x22:
            let v = gpr[r]
            switch n {
            case 0: try setCR0(v)
            case 2: s.pointee.cr2 = v
            case 3: s.pointee.cr3 = v; flushTLB()
            case 4:
                // PGE is accepted but global entries are flushed with the rest (allowed: the
                // TLB may always forget). PAE cannot change while paging is on.
                if v & ~CR4.supported != 0 { throw Fault.gp() }
                if s.pointee.paging && (v ^ s.pointee.cr4) & CR4.pae != 0 { throw Fault.gp() }
                s.pointee.cr4 = v
                flushTLB()
            default: throw Fault.ud
            }
        case 0x21: gpr[r] = readDebugRegister(n)
        default: writeDebugRegister(n, gpr[r])
        }
    }

    func setCR0(_ v: UInt32) throws(Fault) {
        let s = state
        // PG without PE is #GP; ET is hard-wired to 1 on a 386 with a coprocessor socket.
        if v & 0x8000_0000 != 0 && v & 1 == 0 { throw Fault.gp() }
        let old = s.pointee.cr0
        s.pointee.cr0 = v | 0x10
        if (old ^ v) & 0x8001_0001 != 0 { flushTLB() }
        updateModes()
    }

    // MARK: MSRs and TSC

    /// The counter now: machine time (a 1 GHz counter that keeps counting while the guest halts, as
    /// QEMU's TCG follows virtual time) when the machine provides it, else instructions retired.
    private var timeStampNow: UInt64 { clock?.nanoseconds ?? retired }

    func readTSC() throws(Fault) {
        if state.pointee.cr4 & CR4.tsd != 0 && state.pointee.protected && state.pointee.cpl != 0 { throw Fault.gp() }
        lastTSC = max(lastTSC &+ 1, timeStampNow)
        gpr[0] = UInt32(truncatingIfNeeded: lastTSC)
        gpr[2] = UInt32(truncatingIfNeeded: lastTSC >> 32)
    }

    func readMSR() throws(Fault) {
        try requireCPL0()
        let index = gpr[1]
        let v: UInt64
        switch index {
        case 0x10: v = max(lastTSC, timeStampNow)
        case 0x8B, 0x17: v = msrs[index] ?? 0 // microcode signature, platform ID
        case Interpreter.apicBaseMSR where localAPIC != nil: v = localAPIC!.baseMSR
        default:
            if index == Interpreter.eferMSR { longModeRefused = true }
            throw Fault.gp()
        }
        gpr[0] = UInt32(truncatingIfNeeded: v)
        gpr[2] = UInt32(truncatingIfNeeded: v >> 32)
    }

    func writeMSR() throws(Fault) {
        try requireCPL0()
        let index = gpr[1]
        let v = UInt64(gpr[2]) << 32 | UInt64(gpr[0])
        switch index {
        case 0x10: lastTSC = v
        case 0x8B: msrs[index] = v
        case Interpreter.apicBaseMSR where localAPIC != nil:
            guard localAPIC!.writeBaseMSR(v) else { throw Fault.gp() }
            syncAPICPage()
        default:
            if index == Interpreter.eferMSR { longModeRefused = true }
            throw Fault.gp()
        }
    }

    /// EFER: only a guest heading for 64-bit long mode touches it (this CPU has no NX or SYSCALL).
    static let eferMSR: UInt32 = 0xC000_0080

    /// Why a guest that touched EFER stopped: it is a 64-bit guest.
    static let longModeHint = "; the guest tried to enter 64-bit long mode (it accessed EFER), which this software CPU does not have: "
        + "64-bit guests need Virtualize mode (KVM); in Emulate mode use a 32-bit build (e.g. memtest86+ia32.iso)"

    // MARK: CPUID

    /// CPUID from the CPU model's table (CPUModel.interpreter: exactly what is implemented here).
    func cpuid() {
        let r = model.cpuid(function: gpr[0], index: gpr[1])
        gpr[0] = r.eax
        gpr[3] = r.ebx
        gpr[1] = r.ecx
        gpr[2] = r.edx
    }
}
