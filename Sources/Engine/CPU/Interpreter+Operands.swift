/// Registers, ModRM/SIB decoding and r/m operand access.
extension Interpreter {
    @inline(__always)
    func reg(_ i: Int, _ w: Int) -> UInt32 {
        switch w {
        case 1: return i < 4 ? gpr[i] & 0xFF : (gpr[i - 4] >> 8) & 0xFF
        case 2: return gpr[i] & 0xFFFF
        default: return gpr[i]
        }
    }

    @inline(__always)
    func setReg(_ i: Int, _ w: Int, _ v: UInt32) {
        switch w {
        case 1: setReg8(i, v)
        case 2: setReg16(i, v)
        default: gpr[i] = v
        }
    }

    @inline(__always)
    func setReg8(_ i: Int, _ v: UInt32) {
        if i < 4 {
            gpr[i] = (gpr[i] & 0xFFFF_FF00) | (v & 0xFF)
        } else {
            gpr[i - 4] = (gpr[i - 4] & 0xFFFF_00FF) | ((v & 0xFF) << 8)
        }
    }

    @inline(__always)
    func setReg16(_ i: Int, _ v: UInt32) {
        gpr[i] = (gpr[i] & 0xFFFF_0000) | (v & 0xFFFF)
    }

    /// The reg field of the current ModRM byte.
    @inline(__always) var regField: Int { Int((state.pointee.modrm >> 3) & 7) }
    @inline(__always) var rmIsReg: Bool { state.pointee.modrm >= 0xC0 }

    /// Fetches the ModRM byte and, for a memory operand, its SIB/displacement, leaving the
    /// effective address in `eaSeg:eaOffset`. The common 32-bit forms, [reg], [reg+disp8] and
    /// [reg+disp32] (no SIB, not disp32 alone), inline; the rest in `decodeAddress`.
    @inline(__always)
    func decodeModRM() throws(Fault) {
        let s = state
        let modrm = try fetch8()
        s.pointee.modrm = modrm
        if modrm >= 0xC0 { return }
        let rm = Int(modrm & 7)
        guard _fastPath(s.pointee.addrsize32 && rm != 4 && modrm & 0xC7 != 0x05) else {
            try decodeAddress(modrm)
            return
        }
        var off = gpr[rm]
        if modrm >= 0x80 {
            off &+= try fetch32()
        } else if modrm >= 0x40 {
            off &+= signExtend8(try fetch8())
        }
        s.pointee.eaOffset = off
        let o = s.pointee.segOverride
        s.pointee.eaSeg = o >= 0 ? o : (rm == 5 ? SegReg.ss : SegReg.ds)
    }

    /// The 16-bit forms and the 32-bit forms with a SIB byte or a bare disp32.
    @inline(never)
    func decodeAddress(_ modrm: UInt32) throws(Fault) {
        let s = state
        let rm = Int(modrm & 7)
        let mod = modrm >> 6
        var sg = SegReg.ds
        var off: UInt32
        if !s.pointee.addrsize32 {
            switch rm {
            case 0: off = gpr[3] &+ gpr[6]
            case 1: off = gpr[3] &+ gpr[7]
            case 2: off = gpr[5] &+ gpr[6]; sg = SegReg.ss
            case 3: off = gpr[5] &+ gpr[7]; sg = SegReg.ss
            case 4: off = gpr[6]
            case 5: off = gpr[7]
            case 6:
                if mod == 0 { off = try fetch16() } else { off = gpr[5]; sg = SegReg.ss }
            default: off = gpr[3]
            }
            if mod == 1 {
                off &+= UInt32(bitPattern: Int32(Int8(truncatingIfNeeded: try fetch8())))
            } else if mod == 2 {
                off &+= try fetch16()
            }
            off &= 0xFFFF
        } else {
            if rm == 4 {
                let sib = try fetch8()
                let base = Int(sib & 7)
                let index = Int((sib >> 3) & 7)
                if base == 5 && mod == 0 {
                    off = try fetch32()
                } else {
                    off = gpr[base]
                    if base == 4 || base == 5 { sg = SegReg.ss }
                }
                if index != 4 { off &+= gpr[index] << (sib >> 6) }
            } else {
                off = try fetch32() // disp32 alone (mod 00, r/m 101); the rest took the fast path
            }
            if mod == 1 {
                off &+= UInt32(bitPattern: Int32(Int8(truncatingIfNeeded: try fetch8())))
            } else if mod == 2 {
                off &+= try fetch32()
            }
        }
        s.pointee.eaOffset = off
        s.pointee.eaSeg = s.pointee.segOverride >= 0 ? s.pointee.segOverride : sg
    }

    @inline(__always)
    func readRM(_ w: Int) throws(Fault) -> UInt32 {
        let s = state
        if s.pointee.modrm >= 0xC0 { return reg(Int(s.pointee.modrm & 7), w) }
        return try read(s.pointee.eaSeg, s.pointee.eaOffset, w)
    }

    @inline(__always)
    func writeRM(_ w: Int, _ v: UInt32) throws(Fault) {
        let s = state
        if s.pointee.modrm >= 0xC0 { setReg(Int(s.pointee.modrm & 7), w, v); return }
        try write(s.pointee.eaSeg, s.pointee.eaOffset, w, v)
    }

    /// Memory operand `extra` bytes past the effective address (far pointers, BOUND, LGDT).
    @inline(__always)
    func readEA(_ extra: UInt32, _ w: Int) throws(Fault) -> UInt32 {
        let s = state
        let off = s.pointee.eaOffset &+ extra
        return try read(s.pointee.eaSeg, s.pointee.addrsize32 ? off : off & 0xFFFF, w)
    }

    @inline(__always)
    func writeEA(_ extra: UInt32, _ w: Int, _ v: UInt32) throws(Fault) {
        let s = state
        let off = s.pointee.eaOffset &+ extra
        try write(s.pointee.eaSeg, s.pointee.addrsize32 ? off : off & 0xFFFF, w, v)
    }

    /// The data segment of an instruction: DS unless overridden.
    @inline(__always) var dataSeg: Int {
        let o = state.pointee.segOverride
        return o >= 0 ? o : SegReg.ds
    }

    @inline(__always)
    func signExtend8(_ v: UInt32) -> UInt32 { UInt32(bitPattern: Int32(Int8(truncatingIfNeeded: v))) }

    @inline(__always)
    func signExtend16(_ v: UInt32) -> UInt32 { UInt32(bitPattern: Int32(Int16(truncatingIfNeeded: v))) }
}
