/// Saving and loading the x87 state: FNSTENV/FLDENV, FNSAVE/FRSTOR and FXSAVE/FXRSTOR.
extension Interpreter {
    /// FNSTENV layout: 7 fields of 2 bytes with a 16-bit operand size, of 4 with 32. Protected
    /// mode stores FIP, FCS (with FOP above it in the 32-bit form), FDP, FDS; real and virtual-8086
    /// mode store the 20-bit linear instruction and data addresses split around FOP.
    func storeEnvironment(_ w: Int) throws(Fault) {
        let f = fpu.pointee
        var words: [UInt32] = [UInt32(f.control), UInt32(f.statusWord), UInt32(fullTagWord())]
        if state.pointee.protected && !state.pointee.vm86 {
            words += [f.lastIP, UInt32(f.lastCS) | (w == 4 ? UInt32(f.lastOpcode) << 16 : 0), f.lastDP, UInt32(f.lastDS)]
        } else {
            let ip = UInt32(f.lastCS) << 4 &+ f.lastIP, dp = UInt32(f.lastDS) << 4 &+ f.lastDP
            words += [ip & 0xFFFF, (ip >> 16) << 12 | UInt32(f.lastOpcode), dp & 0xFFFF, (dp >> 16) << 12]
        }
        for (i, v) in words.enumerated() { try writeEA(UInt32(i * w), w, v) }
    }

    /// FLDENV: an unmasked exception flag in the loaded status word is pending (#MF or FERR# at
    /// the next waiting instruction).
    func loadEnvironment(_ w: Int) throws(Fault) {
        var fields: [UInt32] = []
        for i in 0..<7 { fields.append(try readEA(UInt32(i * w), w)) }
        setStatusWord(UInt16(truncatingIfNeeded: fields[1]), control: UInt16(truncatingIfNeeded: fields[0]))
        fpu.pointee.tags = UInt16(truncatingIfNeeded: fields[2])
        if state.pointee.protected && !state.pointee.vm86 {
            fpu.pointee.lastIP = fields[3]
            fpu.pointee.lastCS = UInt16(truncatingIfNeeded: fields[4])
            if w == 4 { fpu.pointee.lastOpcode = UInt16((fields[4] >> 16) & 0x7FF) }
            fpu.pointee.lastDP = fields[5]
            fpu.pointee.lastDS = UInt16(truncatingIfNeeded: fields[6])
        } else {
            fpu.pointee.lastCS = 0
            fpu.pointee.lastIP = (fields[3] & 0xFFFF) | (fields[4] >> 12) << 16
            fpu.pointee.lastOpcode = UInt16(fields[4] & 0x7FF)
            fpu.pointee.lastDS = 0
            fpu.pointee.lastDP = (fields[5] & 0xFFFF) | (fields[6] >> 12) << 16
        }
    }

    private func setStatusWord(_ sw: UInt16, control: UInt16) {
        fpu.pointee.control = control
        fpu.pointee.status = sw & ~0x3800
        fpu.pointee.top = Int((sw >> 11) & 7)
        refreshErrorSummary()
    }

    /// FNSAVE: the environment and ST(0)-ST(7), then FNINIT.
    func saveState(_ w: Int) throws(Fault) {
        try storeEnvironment(w)
        for i in 0..<8 { try storeExtended(st(i), at: UInt32(7 * w + i * 10)) }
        fninit()
    }

    /// FRSTOR: everything is read before anything changes, so a fault leaves the FPU as it was.
    func restoreState(_ w: Int) throws(Fault) {
        var registers = [Float80](repeating: 0, count: 8)
        for i in 0..<8 { registers[i] = try loadExtended(at: UInt32(7 * w + i * 10)) }
        try loadEnvironment(w)
        for i in 0..<8 { fpr[(fpu.pointee.top + i) & 7] = registers[i] }
    }

    /// The tag word with valid/zero/special recomputed from the register contents.
    private func fullTagWord() -> UInt16 {
        var t: UInt16 = 0
        for p in 0..<8 {
            let old = (fpu.pointee.tags >> UInt16(2 * p)) & 3
            t |= (old == 3 ? 3 : Interpreter.tag(for: fpr[p])) << UInt16(2 * p)
        }
        return t
    }

    // MARK: FXSAVE/FXRSTOR

    /// 0F AE: /0 FXSAVE and /1 FXRSTOR on a 16-byte aligned 512-byte image. The other forms
    /// (LDMXCSR, STMXCSR, XSAVE, the fences, CLFLUSH) belong to features CPUID does not report:
    /// #UD. Neither instruction waits for pending x87 exceptions. CR0.EM is #UD and CR0.TS #NM
    /// (the SDM's rules for FXSAVE).
    func fxsaveGroup() throws(Fault) {
        let s = state
        try decodeModRM()
        if regField > 1 || rmIsReg || s.pointee.cr0 & CR0.em != 0 { throw Fault.ud }
        if s.pointee.cr0 & CR0.ts != 0 { throw Fault(vector: 7) }
        if (seg[s.pointee.eaSeg].base &+ s.pointee.eaOffset) & 15 != 0 { throw Fault.gp() }
        if regField == 0 { try fxsave() } else { try fxrstor() }
    }

    /// Bytes 0-159: FCW, FSW, the abridged tag byte (bit p set: physical register p is not
    /// empty), FOP, FIP, FCS, FDP, FDS (offsets cut to 16 bits with a 16-bit operand size), then
    /// ST(0)-ST(7) every 16 bytes. There is
    /// no SSE state: MXCSR, MXCSR_MASK (bytes 24-31) and the XMM area are left as they were, as
    /// the SDM allows for the SSE fields.
    private func fxsave() throws(Fault) {
        let f = fpu.pointee
        var abridged: UInt32 = 0
        for p in 0..<8 where (f.tags >> UInt16(2 * p)) & 3 != 3 { abridged |= 1 << UInt32(p) }
        try writeEA(0, 2, UInt32(f.control))
        try writeEA(2, 2, UInt32(f.statusWord))
        let offsetMask: UInt32 = state.pointee.opsize32 ? 0xFFFF_FFFF : 0xFFFF
        try writeEA(4, 2, abridged)
        try writeEA(6, 2, UInt32(f.lastOpcode))
        try writeEA(8, 4, f.lastIP & offsetMask)
        try writeEA(12, 4, UInt32(f.lastCS))
        try writeEA(16, 4, f.lastDP & offsetMask)
        try writeEA(20, 4, UInt32(f.lastDS))
        for i in 0..<8 {
            let at = UInt32(32 + 16 * i)
            try storeExtended(st(i), at: at)
            for pad in stride(from: at + 10, to: at + 16, by: 2) { try writeEA(pad, 2, 0) }
        }
    }

    /// Everything is read before anything changes; a pending unmasked exception in the loaded
    /// status word is reported by the next waiting instruction.
    private func fxrstor() throws(Fault) {
        let control = UInt16(truncatingIfNeeded: try readEA(0, 2))
        let sw = UInt16(truncatingIfNeeded: try readEA(2, 2))
        let abridged = try readEA(4, 1)
        let offsetMask: UInt32 = state.pointee.opsize32 ? 0xFFFF_FFFF : 0xFFFF
        let opcode = UInt16(try readEA(6, 2) & 0x7FF)
        let ip = try readEA(8, 4) & offsetMask, cs = UInt16(try readEA(12, 2))
        let dp = try readEA(16, 4) & offsetMask, ds = UInt16(try readEA(20, 2))
        var registers = [Float80](repeating: 0, count: 8)
        for i in 0..<8 { registers[i] = try loadExtended(at: UInt32(32 + 16 * i)) }
        setStatusWord(sw, control: control)
        var tags: UInt16 = 0
        for i in 0..<8 {
            let p = (fpu.pointee.top + i) & 7
            fpr[p] = registers[i]
            let tag = abridged & (1 << UInt32(p)) != 0 ? Interpreter.tag(for: registers[i]) : 3
            tags |= tag << UInt16(2 * p)
        }
        fpu.pointee.tags = tags
        fpu.pointee.lastOpcode = opcode
        fpu.pointee.lastIP = ip
        fpu.pointee.lastCS = cs
        fpu.pointee.lastDP = dp
        fpu.pointee.lastDS = ds
    }
}
