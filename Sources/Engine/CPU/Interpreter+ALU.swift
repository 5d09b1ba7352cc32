/// Integer arithmetic: the eight ALU ops, INC/DEC, shifts and rotates, MUL/DIV, BCD adjusts.
extension Interpreter {
    /// ADD OR ADC SBB AND SUB XOR CMP (`op` is the 3-bit ALU selector). Returns the result
    /// (CMP's result is discarded by the caller).
    @_transparent
    func alu(_ op: UInt32, _ a: UInt32, _ b: UInt32, _ w: Int) -> UInt32 {
        let r: UInt32
        switch op {
        case 0: r = a &+ b; setLazy(LazyOp.add, a, b, r, w)
        case 1: r = a | b; setLazy(LazyOp.logic, a, b, r, w)
        case 2:
            if cf() { r = a &+ b &+ 1; setLazy(LazyOp.adc, a, b, r, w) } else { r = a &+ b; setLazy(LazyOp.add, a, b, r, w) }
        case 3:
            if cf() { r = a &- b &- 1; setLazy(LazyOp.sbb, a, b, r, w) } else { r = a &- b; setLazy(LazyOp.sub, a, b, r, w) }
        case 4: r = a & b; setLazy(LazyOp.logic, a, b, r, w)
        case 5, 7: r = a &- b; setLazy(LazyOp.sub, a, b, r, w)
        default: r = a ^ b; setLazy(LazyOp.logic, a, b, r, w)
        }
        return r & Interpreter.mask(w)
    }

    @_transparent
    func incDec(_ a: UInt32, _ dec: Bool, _ w: Int) -> UInt32 {
        let carry = cf()
        let s = state
        s.pointee.flags = carry ? s.pointee.flags | Flag.CF : s.pointee.flags & ~Flag.CF
        let r = dec ? a &- 1 : a &+ 1
        setLazy(dec ? LazyOp.dec : LazyOp.inc, a, 1, r, w)
        return r & Interpreter.mask(w)
    }

    /// Group 2: ROL ROR RCL RCR SHL SHR SAL SAR by `count` (already masked to 5 bits). The
    /// shifts leave their flags lazy; ROL and ROR mark the lazy state `LazyOp.rotated`, RCL and
    /// RCR settle it.
    @_transparent
    func shift(_ op: UInt32, _ value: UInt32, _ count: UInt32, _ w: Int) -> UInt32 {
        if count == 0 { return value }
        let m = Interpreter.mask(w)
        let v = value & m
        let r: UInt32
        switch op {
        case 4, 6:
            r = UInt32(truncatingIfNeeded: UInt64(v) << UInt64(count)) & m
            setLazy(LazyOp.shl, v, count, r, w)
        case 5:
            r = v >> count
            setLazy(LazyOp.shr, v, count, r, w)
        case 7:
            let bits = UInt32(w * 8)
            let sx = Int64(Int32(bitPattern: v << (32 - bits))) >> Int64(32 - bits)
            r = UInt32(truncatingIfNeeded: sx >> Int64(count)) & m
            setLazy(LazyOp.sar, v, count, r, w)
        case 0, 1:
            // ROL/ROR change only CF and OF (widths are powers of two: a mask, not a division).
            // Both shift amounts are masked, so a count of 0 mod the width gives v | v, and a
            // 32-bit rotate compiles to one host rotate.
            let bits = UInt32(w * 8)
            let c = count & (bits - 1)
            let top = bits - 1
            let carry: UInt32
            let overflow: UInt32
            if op == 0 {
                r = ((v << c) | (v >> ((bits &- c) & top))) & m
                carry = r & 1
                overflow = (r >> top ^ r) & 1
            } else {
                r = ((v >> c) | (v << ((bits &- c) & top))) & m
                carry = r >> top
                overflow = (r >> top ^ r >> (top - 1)) & 1
            }
            // CF and OF go to `flags`; SF ZF AF PF stay those of the lazy operation before.
            let s = state
            s.pointee.flags = (s.pointee.flags & ~(Flag.CF | Flag.OF)) | carry &* Flag.CF | overflow &* Flag.OF
            if s.pointee.lazyOp != LazyOp.none { s.pointee.lazyOp |= LazyOp.rotated }
        default:
            r = rotateThroughCarry(op, v, count, w)
        }
        return r
    }

    /// RCL and RCR of `v` (masked to the width) by a non-zero `count`.
    @inline(never)
    func rotateThroughCarry(_ op: UInt32, _ v: UInt32, _ count: UInt32, _ w: Int) -> UInt32 {
        let bits = UInt32(w * 8)
        let m = Interpreter.mask(w)
        let msb = Interpreter.sign(w)
        var f = flagsValue() & Flag.arith
        var r: UInt32
        switch op {
        case 2: // RCL
            let c = count % (bits + 1)
            var wide = UInt64(v) | (f & Flag.CF != 0 ? UInt64(1) << UInt64(bits) : 0)
            if c != 0 { wide = (wide << UInt64(c)) | (wide >> UInt64(bits + 1 - c)) }
            r = UInt32(truncatingIfNeeded: wide) & m
            let carry = (wide >> UInt64(bits)) & 1 != 0
            f = (f & ~(Flag.CF | Flag.OF)) | (carry ? Flag.CF : 0)
            if (r & msb != 0) != carry { f |= Flag.OF }
        default: // RCR
            let c = count % (bits + 1)
            var wide = UInt64(v) | (f & Flag.CF != 0 ? UInt64(1) << UInt64(bits) : 0)
            if c != 0 { wide = (wide >> UInt64(c)) | (wide << UInt64(bits + 1 - c)) }
            r = UInt32(truncatingIfNeeded: wide) & m
            let carry = (wide >> UInt64(bits)) & 1 != 0
            f = (f & ~(Flag.CF | Flag.OF)) | (carry ? Flag.CF : 0)
            if (r & msb != 0) != (r & (msb >> 1) != 0) { f |= Flag.OF }
        }
        setArith(f)
        return r
    }

    /// SHLD/SHRD: shifts `dst` by `count` (masked to 5 bits) filling from `src`.
    func doubleShift(left: Bool, _ dst: UInt32, _ src: UInt32, _ count: UInt32, _ w: Int) -> UInt32 {
        let c = count & 31
        if c == 0 { return dst }
        let bits = UInt64(w * 8)
        let m = UInt64(Interpreter.mask(w))
        let r: UInt32
        let carry: Bool
        if left {
            let wide = ((UInt64(dst) & m) << bits) | (UInt64(src) & m)
            let shifted = wide << UInt64(c)
            r = UInt32(truncatingIfNeeded: (shifted >> bits) & m)
            carry = (wide >> (2 * bits - UInt64(c))) & 1 != 0
        } else {
            let wide = ((UInt64(src) & m) << bits) | (UInt64(dst) & m)
            r = UInt32(truncatingIfNeeded: (wide >> UInt64(c)) & m)
            carry = (wide >> UInt64(c - 1)) & 1 != 0
        }
        var f = szp(r, w) | (carry ? Flag.CF : 0)
        if (r ^ dst) & Interpreter.sign(w) != 0 { f |= Flag.OF }
        setArith(f)
        return r
    }

    /// Group 3 MUL/IMUL/DIV/IDIV on the accumulator (`op` 4...7).
    func mulDiv(_ op: UInt32, _ src: UInt32, _ w: Int) throws(Fault) {
        let m = Interpreter.mask(w)
        switch (op, w) {
        case (4, 1):
            let r = (gpr[0] & 0xFF) * (src & 0xFF)
            setReg16(0, r)
            mulFlags(r > 0xFF, r, 1)
        case (5, 1):
            let r = Int32(Int8(truncatingIfNeeded: gpr[0])) * Int32(Int8(truncatingIfNeeded: src))
            setReg16(0, UInt32(bitPattern: r))
            mulFlags(r != Int32(Int8(truncatingIfNeeded: r)), UInt32(bitPattern: r), 1)
        case (4, _):
            let r = UInt64(gpr[0] & m) * UInt64(src & m)
            storeWide(r, w)
            mulFlags(r >> UInt64(w * 8) != 0, UInt32(truncatingIfNeeded: r), w)
        case (5, _):
            let a = w == 2 ? Int64(Int16(truncatingIfNeeded: gpr[0])) : Int64(Int32(bitPattern: gpr[0]))
            let b = w == 2 ? Int64(Int16(truncatingIfNeeded: src)) : Int64(Int32(bitPattern: src))
            let r = a * b
            storeWide(UInt64(bitPattern: r), w)
            let fits = w == 2 ? r == Int64(Int16(truncatingIfNeeded: r)) : r == Int64(Int32(truncatingIfNeeded: r))
            mulFlags(!fits, UInt32(truncatingIfNeeded: r), w)
        case (6, 1):
            let d = src & 0xFF
            let n = gpr[0] & 0xFFFF
            if d == 0 || n / d > 0xFF { throw Fault.de }
            setReg16(0, (n / d) | ((n % d) << 8))
        case (7, 1):
            let d = Int32(Int8(truncatingIfNeeded: src))
            let n = Int32(Int16(truncatingIfNeeded: gpr[0]))
            if d == 0 { throw Fault.de }
            let q = n / d
            if q > 127 || q < -128 { throw Fault.de }
            setReg16(0, (UInt32(bitPattern: q) & 0xFF) | ((UInt32(bitPattern: n % d) & 0xFF) << 8))
        case (6, _):
            let d = UInt64(src & m)
            let n = w == 2 ? UInt64((gpr[2] & 0xFFFF) << 16 | (gpr[0] & 0xFFFF)) : UInt64(gpr[2]) << 32 | UInt64(gpr[0])
            if d == 0 { throw Fault.de }
            let q = n / d
            if q > UInt64(m) { throw Fault.de }
            storeQuotient(UInt32(truncatingIfNeeded: q), UInt32(truncatingIfNeeded: n % d), w)
        default:
            let d = w == 2 ? Int64(Int16(truncatingIfNeeded: src)) : Int64(Int32(bitPattern: src))
            let n = w == 2 ? Int64(Int32(bitPattern: (gpr[2] & 0xFFFF) << 16 | (gpr[0] & 0xFFFF)))
                           : Int64(bitPattern: UInt64(gpr[2]) << 32 | UInt64(gpr[0]))
            if d == 0 || (d == -1 && n == Int64.min) { throw Fault.de }
            let q = n / d
            let limit: Int64 = w == 2 ? 0x7FFF : 0x7FFF_FFFF
            if q > limit || q < -limit - 1 { throw Fault.de }
            storeQuotient(UInt32(truncatingIfNeeded: q), UInt32(truncatingIfNeeded: n % d), w)
        }
    }

    private func storeWide(_ r: UInt64, _ w: Int) {
        if w == 2 {
            setReg16(0, UInt32(truncatingIfNeeded: r))
            setReg16(2, UInt32(truncatingIfNeeded: r >> 16))
        } else {
            gpr[0] = UInt32(truncatingIfNeeded: r)
            gpr[2] = UInt32(truncatingIfNeeded: r >> 32)
        }
    }

    private func storeQuotient(_ q: UInt32, _ r: UInt32, _ w: Int) {
        if w == 2 { setReg16(0, q); setReg16(2, r) } else { gpr[0] = q; gpr[2] = r }
    }

    /// CF=OF=overflow; SF/ZF/PF from the low half (architecturally undefined, as a 386 leaves them).
    @inline(__always)
    func mulFlags(_ overflow: Bool, _ low: UInt32, _ w: Int) {
        setArith(szp(low, w) | (overflow ? Flag.CF | Flag.OF : 0))
    }

    /// IMUL r, r/m(, imm): truncated signed product with CF=OF on overflow.
    func imul(_ a: UInt32, _ b: UInt32, _ w: Int) -> UInt32 {
        let x = w == 2 ? Int64(Int16(truncatingIfNeeded: a)) : Int64(Int32(bitPattern: a))
        let y = w == 2 ? Int64(Int16(truncatingIfNeeded: b)) : Int64(Int32(bitPattern: b))
        let r = x * y
        let fits = w == 2 ? r == Int64(Int16(truncatingIfNeeded: r)) : r == Int64(Int32(truncatingIfNeeded: r))
        mulFlags(!fits, UInt32(truncatingIfNeeded: r), w)
        return UInt32(truncatingIfNeeded: r) & Interpreter.mask(w)
    }

    // MARK: BCD

    func daa(subtract: Bool) {
        let f = flagsValue()
        let oldAL = gpr[0] & 0xFF
        let oldCF = f & Flag.CF != 0
        var al = oldAL
        var out: UInt32 = 0
        if al & 0xF > 9 || f & Flag.AF != 0 {
            let borrowOrCarry = subtract ? al < 6 : al > 0xF9
            al = (subtract ? al &- 6 : al &+ 6) & 0xFF
            out |= Flag.AF
            if oldCF || borrowOrCarry { out |= Flag.CF }
        }
        if oldAL > 0x99 || oldCF {
            al = (subtract ? al &- 0x60 : al &+ 0x60) & 0xFF
            out |= Flag.CF
        }
        setReg8(0, al)
        setArith(out | szp(al, 1) | (f & Flag.OF))
    }

    func aaa(subtract: Bool) {
        let f = flagsValue()
        var ax = gpr[0] & 0xFFFF
        var out: UInt32 = 0
        if ax & 0xF > 9 || f & Flag.AF != 0 {
            ax = subtract ? (ax &- 6) &- 0x100 : (ax &+ 0x106)
            out = Flag.AF | Flag.CF
        }
        ax &= 0xFF0F
        setReg16(0, ax)
        setArith(out | szp(ax & 0xFF, 1) | (f & Flag.OF))
    }

    func aam(_ base: UInt32) throws(Fault) {
        if base == 0 { throw Fault.de }
        let al = gpr[0] & 0xFF
        let r = al % base
        setReg16(0, ((al / base) << 8) | r)
        setArith(szp(r, 1))
    }

    func aad(_ base: UInt32) {
        let al = gpr[0] & 0xFF
        let ah = (gpr[0] >> 8) & 0xFF
        let product = (ah &* base) & 0xFF
        let r = alu(0, al, product, 1)
        setReg16(0, r)
    }
}
