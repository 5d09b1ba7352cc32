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
    /// effective address in `eaSeg:eaOffset` (the handlers outside the decoded hot set).
    func decodeModRM() throws(Fault) {
        let s = state
        var d = DecodedInstruction()
        d.prefixes = s.pointee.prefixes
        try decodeModRM(&d)
        address(d)
    }

    /// Decodes a ModRM byte and its SIB and displacement into `d`'s address form.
    @inline(__always)
    func decodeModRM(_ d: inout DecodedInstruction) throws(Fault) {
        let modrm = try fetch8()
        d.modrm = UInt8(modrm)
        if modrm < 0xC0 { try decodeAddress(modrm, &d) }
    }

    /// A memory operand as base + index << scale + displacement over `gpr` (the absent
    /// register is `DecodedInstruction.none`, always 0), and its segment.
    func decodeAddress(_ modrm: UInt32, _ d: inout DecodedInstruction) throws(Fault) {
        let rm = UInt8(modrm & 7)
        let mod = modrm >> 6
        var sg = SegReg.ds
        if !d.prefixes.addrsize32 {
            switch rm {
            case 0: d.base = 3; d.index = 6
            case 1: d.base = 3; d.index = 7
            case 2: d.base = 5; d.index = 6; sg = SegReg.ss
            case 3: d.base = 5; d.index = 7; sg = SegReg.ss
            case 4: d.base = 6
            case 5: d.base = 7
            case 6:
                if mod == 0 { d.disp = try fetch16() } else { d.base = 5; sg = SegReg.ss }
            default: d.base = 3
            }
            if mod == 1 {
                d.disp = signExtend8(try fetch8())
            } else if mod == 2 {
                d.disp = try fetch16()
            }
        } else {
            if rm == 4 {
                let sib = try fetch8()
                let base = UInt8(sib & 7)
                let index = UInt8((sib >> 3) & 7)
                if base == 5 && mod == 0 {
                    d.disp = try fetch32()
                } else {
                    d.base = base
                    if base == 4 || base == 5 { sg = SegReg.ss }
                }
                if index != 4 {
                    d.index = index
                    d.scale = UInt8(sib >> 6)
                }
            } else if rm == 5 && mod == 0 {
                d.disp = try fetch32() // disp32 alone
            } else {
                d.base = rm
                if rm == 5 { sg = SegReg.ss }
            }
            if mod == 1 {
                d.disp = signExtend8(try fetch8())
            } else if mod == 2 {
                d.disp = try fetch32()
            }
        }
        d.eaSeg = d.prefixes.segOverride >= 0 ? d.prefixes.segOverride : Int8(sg)
    }

    /// Puts a decoded ModRM operand where regField, readRM and writeRM look: the ModRM byte
    /// and, for memory, the effective address from today's registers.
    @inline(__always)
    func address(_ d: DecodedInstruction) {
        let s = state
        s.pointee.modrm = UInt32(d.modrm)
        if d.modrm >= 0xC0 { return }
        s.pointee.eaOffset = effectiveAddress(d)
        s.pointee.eaSeg = Int(d.eaSeg)
    }

    /// The offset of a decoded memory operand, from today's registers.
    @inline(__always)
    func effectiveAddress(_ d: DecodedInstruction) -> UInt32 {
        let off = gpr[Int(d.base)] &+ (gpr[Int(d.index)] &<< UInt32(d.scale)) &+ d.disp
        return d.prefixes.addrsize32 ? off : off & 0xFFFF
    }

    /// A decoded instruction's r/m operand, its register or memory at its effective address,
    /// read without going through the state as `address`, `readRM` and `writeRM` do (for the
    /// hot classes that only read it or only write it).
    @inline(__always)
    func readOperand(_ d: UnsafeMutablePointer<DecodedInstruction>, _ w: Int) throws(Fault) -> UInt32 {
        let m = Int(d.pointee.modrm)
        if m >= 0xC0 { return reg(m & 7, w) }
        return try read(Int(d.pointee.eaSeg), effectiveAddress(d.pointee), w)
    }

    @inline(__always)
    func writeOperand(_ d: UnsafeMutablePointer<DecodedInstruction>, _ w: Int, _ v: UInt32) throws(Fault) {
        let m = Int(d.pointee.modrm)
        if m >= 0xC0 { setReg(m & 7, w, v); return }
        try write(Int(d.pointee.eaSeg), effectiveAddress(d.pointee), w, v)
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
