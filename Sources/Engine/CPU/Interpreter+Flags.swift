/// Lazy flags: the last arithmetic operation is kept (kind, operands, result, width) and the
/// six arithmetic flags are computed only when something reads them.
extension Interpreter {
    @inline(__always) static func mask(_ w: Int) -> UInt32 {
        w == 4 ? 0xFFFF_FFFF : (w == 2 ? 0xFFFF : 0xFF)
    }

    @inline(__always) static func sign(_ w: Int) -> UInt32 {
        w == 4 ? 0x8000_0000 : (w == 2 ? 0x8000 : 0x80)
    }

    @_transparent
    func setLazy(_ op: UInt32, _ dst: UInt32, _ src: UInt32, _ res: UInt32, _ w: Int) {
        let s = state
        let m = Interpreter.mask(w)
        s.pointee.lazyOp = op
        s.pointee.lazyDst = dst & m
        s.pointee.lazySrc = src & m
        s.pointee.lazyRes = res & m
        s.pointee.lazyWidth = w
    }

    /// Replaces the six arithmetic flags with `bits`, ending any lazy state.
    @inline(__always)
    func setArith(_ bits: UInt32) {
        let s = state
        s.pointee.flags = (s.pointee.flags & ~Flag.arith) | (bits & Flag.arith)
        s.pointee.lazyOp = LazyOp.none
    }

    /// ZF, SF and PF of `res` at width `w` (for eagerly computed results).
    @inline(__always)
    func szp(_ res: UInt32, _ w: Int) -> UInt32 {
        let r = res & Interpreter.mask(w)
        var f: UInt32 = r == 0 ? Flag.ZF : 0
        if r & Interpreter.sign(w) != 0 { f |= Flag.SF }
        if Interpreter.evenParity(r) { f |= Flag.PF }
        return f
    }

    /// PF: the low byte of `v` has an even number of set bits. 0x6996 holds the parity of
    /// each nibble value, so two shifts replace a population count.
    @inline(__always)
    static func evenParity(_ v: UInt32) -> Bool {
        (0x6996 >> ((v ^ (v >> 4)) & 0xF)) & 1 == 0
    }

    @_transparent
    func cf() -> Bool {
        let s = state
        switch s.pointee.lazyOp {
        case LazyOp.add: return s.pointee.lazyRes < s.pointee.lazyDst
        case LazyOp.adc: return s.pointee.lazyRes <= s.pointee.lazyDst
        case LazyOp.sub: return s.pointee.lazyDst < s.pointee.lazySrc
        case LazyOp.sbb: return s.pointee.lazyDst <= s.pointee.lazySrc
        case LazyOp.logic: return false
        case LazyOp.shl, LazyOp.shr, LazyOp.sar: return Interpreter.shiftCarry(s)
        default: return s.pointee.flags & Flag.CF != 0
        }
    }

    /// CF of a lazy SHL, SHR or SAR: the last bit shifted out.
    @inline(__always)
    static func shiftCarry(_ s: UnsafeMutablePointer<CPUState>) -> Bool {
        let (d, count) = (s.pointee.lazyDst, s.pointee.lazySrc)
        let bits = UInt64(s.pointee.lazyWidth * 8)
        switch s.pointee.lazyOp {
        case LazyOp.shl: return (UInt64(d) << UInt64(count)) >> bits & 1 != 0
        case LazyOp.shr: return (d >> (count - 1)) & 1 != 0
        default:
            let sx = Int64(Int32(bitPattern: d << UInt32(32 - bits))) >> Int64(32 - bits)
            return (sx >> Int64(count - 1)) & 1 != 0
        }
    }

    @_transparent
    func zf() -> Bool {
        let s = state
        return s.pointee.lazyOp == LazyOp.none ? s.pointee.flags & Flag.ZF != 0 : s.pointee.lazyRes == 0
    }

    @_transparent
    func sf() -> Bool {
        let s = state
        return s.pointee.lazyOp == LazyOp.none ? s.pointee.flags & Flag.SF != 0 : s.pointee.lazyRes & Interpreter.sign(s.pointee.lazyWidth) != 0
    }

    @_transparent
    func of() -> Bool {
        let s = state
        let sign = Interpreter.sign(s.pointee.lazyWidth)
        switch s.pointee.lazyOp {
        case LazyOp.add, LazyOp.adc, LazyOp.inc:
            return (s.pointee.lazyDst ^ s.pointee.lazyRes) & (s.pointee.lazySrc ^ s.pointee.lazyRes) & sign != 0
        case LazyOp.sub, LazyOp.sbb, LazyOp.dec:
            return (s.pointee.lazyDst ^ s.pointee.lazySrc) & (s.pointee.lazyDst ^ s.pointee.lazyRes) & sign != 0
        case LazyOp.logic, LazyOp.sar: return false
        case LazyOp.shl: return (s.pointee.lazyRes & sign != 0) != Interpreter.shiftCarry(s)
        case LazyOp.shr: return s.pointee.lazyDst & sign != 0
        default: return s.pointee.flags & Flag.OF != 0
        }
    }

    @_transparent
    func pf() -> Bool {
        let s = state
        if s.pointee.lazyOp == LazyOp.none { return s.pointee.flags & Flag.PF != 0 }
        return Interpreter.evenParity(s.pointee.lazyRes)
    }

    /// EFLAGS with the arithmetic flags materialised: one switch over the lazy kind rather
    /// than one per flag (PUSHF and RCL/RCR read this).
    func flagsValue() -> UInt32 {
        let s = state
        let op = s.pointee.lazyOp
        if op == LazyOp.none { return s.pointee.flags }
        let (d, src, r) = (s.pointee.lazyDst, s.pointee.lazySrc, s.pointee.lazyRes)
        let f = (s.pointee.flags & ~Flag.arith) | szp(r, s.pointee.lazyWidth)
        if op == LazyOp.logic { return f }
        if op & LazyOp.rotated != 0 {
            let kind = op & ~LazyOp.rotated
            let af = kind != LazyOp.logic && kind < LazyOp.shl ? (d ^ src ^ r) & Flag.AF : 0
            return f | af | (s.pointee.flags & (Flag.CF | Flag.OF))
        }
        let sign = Interpreter.sign(s.pointee.lazyWidth)
        if op >= LazyOp.shl {
            let carry = Interpreter.shiftCarry(s)
            let overflow = op == LazyOp.shl ? (r & sign != 0) != carry : op == LazyOp.shr && d & sign != 0
            return f | (carry ? Flag.CF : 0) | (overflow ? Flag.OF : 0)
        }
        let carry: Bool
        let overflow: UInt32
        switch op {
        case LazyOp.add: carry = r < d; overflow = (d ^ r) & (src ^ r)
        case LazyOp.adc: carry = r <= d; overflow = (d ^ r) & (src ^ r)
        case LazyOp.sub: carry = d < src; overflow = (d ^ src) & (d ^ r)
        case LazyOp.sbb: carry = d <= src; overflow = (d ^ src) & (d ^ r)
        case LazyOp.inc: carry = s.pointee.flags & Flag.CF != 0; overflow = (d ^ r) & (src ^ r)
        default: carry = s.pointee.flags & Flag.CF != 0; overflow = (d ^ src) & (d ^ r) // dec
        }
        return f | ((d ^ src ^ r) & Flag.AF) | (carry ? Flag.CF : 0) | (overflow & sign != 0 ? Flag.OF : 0)
    }

    /// Materialises the lazy flags into `flags`.
    @inline(__always)
    func settleFlags() {
        if state.pointee.lazyOp != LazyOp.none {
            state.pointee.flags = flagsValue()
            state.pointee.lazyOp = LazyOp.none
        }
    }

    /// Condition code `cc` (the low nibble of Jcc/SETcc/CMOVcc).
    @_transparent
    func condition(_ cc: UInt32) -> Bool {
        let r: Bool
        switch cc >> 1 {
        case 0: r = of()
        case 1: r = cf()
        case 2: r = zf()
        case 3: r = cf() || zf()
        case 4: r = sf()
        case 5: r = pf()
        case 6: r = sf() != of()
        default: r = zf() || sf() != of()
        }
        return cc & 1 == 0 ? r : !r
    }

    /// Sets or clears one flag (settling lazy state first when it is arithmetic).
    @inline(__always)
    func setFlag(_ bit: UInt32, _ on: Bool) {
        if bit & Flag.arith != 0 { settleFlags() }
        if on { state.pointee.flags |= bit } else { state.pointee.flags &= ~bit }
    }
}
