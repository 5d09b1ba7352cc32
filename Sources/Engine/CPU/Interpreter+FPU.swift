#if canImport(Glibc)
import Glibc
#endif

/// The x87 FPU (ESC opcodes D8-DF), computed in Float80 on the host's own x87 under the guest's
/// rounding control, with precision control, the exception flags, stack faults, masked responses
/// and #MF/FERR# reporting of a real one (Interpreter+FPUExceptions.swift); FNSTENV, FNSAVE,
/// FXSAVE and their loads are in Interpreter+FPUState.swift.
///
/// Where this differs from a real x87:
/// - C1 is 0 after a result rounded to 64 bits, where hardware sets it when it rounded up (under
///   24/53-bit precision control it is reported);
/// - an unmasked overflow or underflow of FSCALE, the transcendental instructions or arithmetic
///   under precision control writes the masked result, not the exponent-wrapped one that
///   hardware hands the handler (FADD, FSUB, FMUL, FDIV at 64 bits wrap it);
/// - precision control (24/53 bits) applies to normal results; a result in the denormal range
///   is rounded at 64 bits;
/// - FSIN/FCOS/FPTAN/FPATAN/F2XM1/FYL2X(P1) come from the C library: results can differ from
///   Intel's in the last bit or two, and their PE/UE follow the library's computation;
/// - FPREM/FPREM1 always complete the reduction (C2 = 0); FLDPI and the other constants are not
///   rounded by RC;
/// - pseudo-denormal and unnormal encodings are treated as the host's x87 treats them.
/// CR0.EM/TS raise #NM; WAIT raises #NM when CR0.MP and TS are set.
extension Interpreter {
    // MARK: Register stack

    @inline(__always) func st(_ i: Int) -> Float80 { fpr[(fpu.pointee.top + i) & 7] }

    @inline(__always)
    func setST(_ i: Int, _ v: Float80) {
        let p = (fpu.pointee.top + i) & 7
        fpr[p] = v
        setTag(p, Interpreter.tag(for: v))
    }

    @inline(__always)
    static func tag(for v: Float80) -> UInt16 {
        if v == 0 { return 1 }
        return v.isFinite && !v.isSubnormal ? 0 : 2
    }

    @inline(__always)
    func setTag(_ p: Int, _ t: UInt16) {
        fpu.pointee.tags = (fpu.pointee.tags & ~(3 << UInt16(2 * p))) | (t << UInt16(2 * p))
    }

    @inline(__always)
    func isEmpty(_ i: Int) -> Bool {
        let p = (fpu.pointee.top + i) & 7
        return (fpu.pointee.tags >> UInt16(2 * p)) & 3 == 3
    }

    @inline(__always)
    func fpush(_ v: Float80) {
        fpu.pointee.top = (fpu.pointee.top - 1) & 7
        setST(0, v)
    }

    @inline(__always)
    func fpop() {
        setTag(fpu.pointee.top, 3)
        fpu.pointee.top = (fpu.pointee.top + 1) & 7
    }

    /// ST(i) as a source operand. An empty register is a stack underflow: masked, the operation
    /// goes on with the real indefinite (its masked response); unmasked, nil stops it.
    @inline(__always)
    func source(_ i: Int) -> Float80? {
        if _fastPath(!isEmpty(i)) { return st(i) }
        return stackUnderflow()
    }

    @inline(never)
    private func stackUnderflow() -> Float80? {
        stackFault(overflow: false) ? nil : X87State.indefinite
    }

    /// Room for a push. A full ST(7) is a stack overflow: masked, the real indefinite is pushed
    /// instead of the value; either way the caller stops.
    @inline(__always)
    func canPush() -> Bool {
        if _fastPath(isEmpty(7)) { return true }
        return stackOverflow()
    }

    @inline(never)
    private func stackOverflow() -> Bool {
        if !stackFault(overflow: true) { fpush(X87State.indefinite) }
        return false
    }

    @inline(__always)
    private func push(_ v: Float80, _ flags: UInt16 = 0) {
        guard canPush(), !signalFPU(flags, blocking: X87State.ie | X87State.de) else { return }
        fpush(v)
        fpu.pointee.status &= ~X87State.c1
    }

    private func setConditions(_ bits: UInt16) {
        fpu.pointee.status = (fpu.pointee.status & ~X87State.conditionBits) | bits
    }

    func fninit() {
        fpu.pointee = X87State()
        releaseFERR()
    }

    static func quiet(_ v: Float80) -> Float80 {
        Float80(sign: v.sign, exponentBitPattern: v.exponentBitPattern, significandBitPattern: v.significandBitPattern | (1 << 62))
    }

    // MARK: Memory formats

    /// A real operand with the exceptions its format raises: IE for a signalling NaN (loaded
    /// quiet), DE for a denormal. 80-bit loads raise neither.
    private func loadReal(_ width: Int) throws(Fault) -> (Float80, UInt16) {
        switch width {
        case 4:
            let f = Float(bitPattern: try readEA(0, 4))
            return (Float80(f), f.isSignalingNaN ? X87State.ie : f.isSubnormal ? X87State.de : 0)
        case 8:
            let lo = UInt64(try readEA(0, 4)), hi = UInt64(try readEA(4, 4))
            let d = Double(bitPattern: hi << 32 | lo)
            return (Float80(d), d.isSignalingNaN ? X87State.ie : d.isSubnormal ? X87State.de : 0)
        default:
            return (try loadExtended(at: 0), 0)
        }
    }

    func loadExtended(at extra: UInt32) throws(Fault) -> Float80 {
        var bytes: (UInt64, UInt64) = (0, 0)
        bytes.0 = UInt64(try readEA(extra, 4)) | UInt64(try readEA(extra + 4, 4)) << 32
        bytes.1 = UInt64(try readEA(extra + 8, 2))
        return withUnsafeBytes(of: &bytes) { $0.loadUnaligned(as: Float80.self) }
    }

    func storeExtended(_ v: Float80, at extra: UInt32) throws(Fault) {
        var value = v
        let (lo, hi) = withUnsafeBytes(of: &value) { ($0.loadUnaligned(as: UInt64.self), $0.loadUnaligned(fromByteOffset: 8, as: UInt16.self)) }
        try writeEA(extra, 4, UInt32(truncatingIfNeeded: lo))
        try writeEA(extra + 4, 4, UInt32(truncatingIfNeeded: lo >> 32))
        try writeEA(extra + 8, 2, UInt32(hi))
    }

    /// FST/FSTP to a 32/64-bit real: the host's conversion raises OE, UE, PE and IE (signalling
    /// NaN) as FST does; an unmasked IE, OE or UE leaves memory and the stack alone.
    private func storeReal(_ width: Int, pop: Bool) throws(Fault) {
        guard let value = source(0) else { return }
        let (v, _) = armHostFlags(value)
        fpu.pointee.hostBits = width == 4 ? UInt64(Float(v).bitPattern) : Double(v).bitPattern
        let flags = hostFlags()
        let bits = fpu.pointee.hostBits
        if flags & ~fpu.pointee.control & (X87State.ie | X87State.oe | X87State.ue) == 0 {
            try writeEA(0, 4, UInt32(truncatingIfNeeded: bits))
            if width == 8 { try writeEA(4, 4, UInt32(truncatingIfNeeded: bits >> 32)) }
            if pop { fpop() }
        }
        fpu.pointee.status &= ~X87State.c1
        signalFPU(flags)
    }

    private func loadInt(_ width: Int) throws(Fault) -> Float80 {
        switch width {
        case 2: return Float80(Int16(truncatingIfNeeded: try readEA(0, 2)))
        case 4: return Float80(Int32(bitPattern: try readEA(0, 4)))
        default:
            let lo = UInt64(try readEA(0, 4)), hi = UInt64(try readEA(4, 4))
            return Float80(Int64(bitPattern: hi << 32 | lo))
        }
    }

    /// FIST/FISTP: rounded by RC. NaN, infinity or out of range is IE (masked: the integer
    /// indefinite, the most negative value); a rounded value is PE.
    private func storeInt(_ width: Int, pop: Bool) throws(Fault) {
        guard let v = source(0) else { return }
        let r = round(v)
        let limit = Float80(sign: .plus, exponent: width * 8 - 1, significand: 1)
        let invalid = r.isNaN || r >= limit || r < -limit
        let flags = invalid ? X87State.ie : (r != v ? X87State.pe : 0)
        if invalid && X87State.ie & ~fpu.pointee.control != 0 { signalFPU(flags); return }
        let n: Int64 = invalid ? Int64.min : Int64(r)
        switch width {
        case 2: try writeEA(0, 2, invalid ? 0x8000 : UInt32(truncatingIfNeeded: n))
        case 4: try writeEA(0, 4, invalid ? 0x8000_0000 : UInt32(truncatingIfNeeded: n))
        default:
            try writeEA(0, 4, UInt32(truncatingIfNeeded: n))
            try writeEA(4, 4, UInt32(truncatingIfNeeded: n >> 32))
        }
        fpu.pointee.status &= ~X87State.c1
        signalFPU(flags)
        if pop { fpop() }
    }

    /// Rounds by the control word's RC field.
    private func round(_ v: Float80) -> Float80 {
        switch (fpu.pointee.control >> 10) & 3 {
        case 0: return v.rounded(.toNearestOrEven)
        case 1: return v.rounded(.down)
        case 2: return v.rounded(.up)
        default: return v.rounded(.towardZero)
        }
    }

    private func loadBCD() throws(Fault) -> Float80 {
        var v: Float80 = 0
        for i in (0..<9).reversed() {
            let b = try readEA(UInt32(i), 1)
            v = v * 100 + Float80((b >> 4) * 10 + (b & 0xF))
        }
        return try readEA(9, 1) & 0x80 != 0 ? -v : v
    }

    /// FBSTP: 18 packed digits. NaN, infinity or more digits is IE (masked: the packed BCD
    /// indefinite FFFF C000 0000 0000 0000); a rounded value is PE.
    private func storeBCD() throws(Fault) {
        guard let v = source(0) else { return }
        let r = round(v)
        let invalid = r.isNaN || abs(r) > 999_999_999_999_999_999
        let flags = invalid ? X87State.ie : (r != v ? X87State.pe : 0)
        if invalid && X87State.ie & ~fpu.pointee.control != 0 { signalFPU(flags); return }
        if invalid {
            for i in 0..<7 { try writeEA(UInt32(i), 1, 0) }
            try writeEA(7, 1, 0xC0)
            try writeEA(8, 2, 0xFFFF)
        } else {
            var n = UInt64(abs(r))
            for i in 0..<9 {
                let lo = n % 10; n /= 10
                let hi = n % 10; n /= 10
                try writeEA(UInt32(i), 1, UInt32(hi << 4 | lo))
            }
            try writeEA(9, 1, v.sign == .minus ? 0x80 : 0)
        }
        signalFPU(flags)
        fpop()
    }

    // MARK: Arithmetic

    /// The arithmetic forms ADD MUL - - SUB SUBR DIV DIVR.
    private func arith(_ op: Int, _ a: Float80, _ b: Float80) -> Float80 {
        switch op {
        case 0: return a + b
        case 1: return a * b
        case 4: return a - b
        case 5: return b - a
        case 6: return a / b
        default: return b / a
        }
    }

    /// ST(dst) = a op b (FSQRT of a: `op` -1) with its exceptions; false when an unmasked one
    /// stopped it (no pop).
    @discardableResult
    private func arithmetic(_ op: Int, dst: Int, _ a: Float80, _ b: Float80, _ loadFlags: UInt16 = 0) -> Bool {
        if operandExceptions(a, b, loadFlags) { return false }
        if _slowPath(fpu.pointee.control & 0x300 != 0x300), let done = reducedPrecision(op, dst: dst, a, b) { return done }
        let (x, y) = armHostFlags(a, b)
        var (r, _, flags) = collectHostFlags(op < 0 ? x.squareRoot() : arith(op, x, y))
        if _slowPath(fpu.pointee.control & (X87State.oe | X87State.ue) != X87State.oe | X87State.ue) {
            (r, flags) = wrappedExponent(op, a, b, r, flags)
        }
        guard commitFlags(flags) else { return false }
        setST(dst, r)
        return true
    }

    /// Unmasked overflow or underflow: the result with its exponent wrapped by 2^-24576 or
    /// 2^24576, the bias adjustment hardware hands the handler, computed from operands scaled
    /// (exactly) so that the true result stays in range. An unmasked UE also comes with a tiny
    /// result that is exact.
    private func wrappedExponent(_ op: Int, _ a: Float80, _ b: Float80, _ r: Float80, _ flags: UInt16) -> (Float80, UInt16) {
        let control = fpu.pointee.control
        var flags = flags
        if control & X87State.ue == 0 && r.isSubnormal { flags |= X87State.ue }
        let over = flags & control & X87State.oe == 0 && flags & X87State.oe != 0
        let under = !over && flags & control & X87State.ue == 0 && flags & X87State.ue != 0
        guard over || under, op >= 0 else { return (r, flags) }
        func scaled(_ v: Float80, _ n: Int) -> Float80 { // in two halves: 2^24576 is out of range
            let half = Float80(sign: .plus, exponent: (over ? -n : n) / 2, significand: 1)
            return v * half * half
        }
        let (x, y): (Float80, Float80)
        switch op {
        case 1: (x, y) = (scaled(a, 12288), scaled(b, 12288))
        case 6: (x, y) = (scaled(a, 12288), scaled(b, -12288))
        case 7: (x, y) = (scaled(a, -12288), scaled(b, 12288))
        default: (x, y) = (scaled(a, 24576), scaled(b, 24576))
        }
        let (p, q) = armHostFlags(x, y)
        let (wrapped, _, _) = collectHostFlags(arith(op, p, q))
        return (wrapped, flags)
    }

    /// Precision control (24 or 53 bits) for FADD FSUB FMUL FDIV FSQRT: the host computes 64 bits
    /// rounded down and up; the one toward zero, with its last bit set when they differ (round to
    /// odd), rounds to the guest's precision by RC exactly as a direct rounding would. The
    /// exponent keeps its 15 bits. Nil for results that are not normal numbers: those are
    /// computed at 64 bits.
    private func reducedPrecision(_ op: Int, dst: Int, _ a: Float80, _ b: Float80) -> Bool? {
        let f = fpu
        var (x, y) = armHostFlags(a, b)
        fesetround(0x400)
        f.pointee.hostResults.0 = op < 0 ? x.squareRoot() : arith(op, x, y)
        fesetround(0x800)
        (x, y) = f.pointee.hostOperands
        f.pointee.hostResults.1 = op < 0 ? x.squareRoot() : arith(op, x, y)
        fesetround(0)
        let (down, upward, hostRaised) = collectHostFlags(f.pointee.hostResults.0, f.pointee.hostResults.1)
        var r = down.sign == .minus ? upward : down // toward zero
        let overflow = down.isInfinite != upward.isInfinite
        // The host's OE, UE and PE may be held from earlier instructions: decide them here.
        var flags = hostRaised & ~(X87State.oe | X87State.ue | X87State.pe)
        if overflow { flags |= X87State.oe | X87State.pe }
        if down != upward && !overflow { flags |= X87State.pe }
        let control = f.pointee.control
        let up = Interpreter.roundsAwayFromZero(control, r.sign)
        let bits = control & 0x300 == 0x200 ? 53 : 24
        let drop = UInt64(64 - bits)
        let fraction: UInt64 = (1 << 63) - 1
        let largest = Float80(sign: r.sign, exponentBitPattern: 0x7FFE, significandBitPattern: (fraction >> drop) << drop)
        let infinity: Float80 = r.sign == .minus ? -.infinity : .infinity
        var c1: UInt16 = 0
        if overflow {
            r = up ? infinity : largest
        } else if !r.isNormal {
            return nil
        } else {
            let sticky: UInt64 = flags & X87State.pe != 0 ? 1 : 0
            var s: UInt64 = 1 << 63 | r.significandBitPattern | sticky
            let low: UInt64 = s & ((1 << drop) - 1), half: UInt64 = 1 << (drop - 1)
            s >>= drop
            let nearest = control & 0xC00 == 0
            let roundUp = nearest ? (low > half || (low == half && s & 1 != 0)) : (low != 0 && up)
            if roundUp { s += 1; c1 = X87State.c1 }
            var exponent = r.exponentBitPattern
            if s == UInt64(1) << UInt64(bits) { s >>= 1; exponent += 1 }
            flags = (flags & ~X87State.pe) | (low != 0 ? X87State.pe : 0)
            if exponent >= 0x7FFF {
                flags |= X87State.oe
                r = up ? infinity : largest
            } else {
                r = Float80(sign: r.sign, exponentBitPattern: exponent, significandBitPattern: (s << drop) & fraction)
            }
        }
        f.pointee.status = (f.pointee.status & ~X87State.c1) | c1 // C1: rounded up
        if signalFPU(flags, blocking: X87State.ie | X87State.ze) { return false }
        setST(dst, r)
        return true
    }

    /// Whether RC rounds a value of this sign away from zero when it is not exact (up for
    /// positive, down for negative); round-to-nearest counts as away for overflow.
    private static func roundsAwayFromZero(_ control: UInt16, _ sign: FloatingPointSign) -> Bool {
        switch control & 0xC00 {
        case 0: return true
        case 0x400: return sign == .minus
        case 0x800: return sign == .plus
        default: return false
        }
    }

    private func compare(_ a: Float80, _ b: Float80) -> UInt16 {
        if a.isNaN || b.isNaN { return X87State.c0 | X87State.c2 | X87State.c3 }
        if a < b { return X87State.c0 }
        return a == b ? X87State.c3 : 0
    }

    /// FCOM/FUCOM family: C3 C2 C0, or nil after an unmasked exception (nothing changes, no pop).
    /// FCOM's IE comes with any NaN, FUCOM's (`quiet`) only with a signalling one.
    private func compareCodes(_ a: Float80?, _ b: Float80?, quiet: Bool, _ loadFlags: UInt16 = 0) -> UInt16? {
        guard let a, let b else { return nil }
        var flags = loadFlags
        if (a.isNaN || b.isNaN) && (!quiet || a.isSignalingNaN || b.isSignalingNaN) { flags |= X87State.ie }
        if operandExceptions(a, b, flags) { return nil }
        return compare(a, b)
    }

    /// FCOM/FCOMP/FUCOM(P): the comparison into C3 C2 C0 (C1 = 0) and `pops` pops.
    private func compareST(_ b: Float80?, quiet: Bool, pops: Int, _ loadFlags: UInt16 = 0) {
        guard let c = compareCodes(source(0), b, quiet: quiet, loadFlags) else { return }
        setConditions(c)
        for _ in 0..<pops { fpop() }
    }

    /// FCOMI/FUCOMI(P): the comparison into ZF, PF, CF.
    private func compareToEFLAGS(_ i: Int, quiet: Bool, pop: Bool) {
        guard let c = compareCodes(source(0), source(i), quiet: quiet) else { return }
        fpu.pointee.status &= ~X87State.c1
        var f = flagsValue() & Flag.arith & ~(Flag.ZF | Flag.PF | Flag.CF | Flag.OF | Flag.SF | Flag.AF)
        if c & X87State.c3 != 0 { f |= Flag.ZF }
        if c & X87State.c2 != 0 { f |= Flag.PF }
        if c & X87State.c0 != 0 { f |= Flag.CF }
        setArith(f)
        if pop { fpop() }
    }

    private func examine() -> UInt16 {
        let v = st(0)
        let sign: UInt16 = v.sign == .minus ? X87State.c1 : 0
        if isEmpty(0) { return sign | X87State.c3 | X87State.c0 }
        if v.isNaN { return sign | X87State.c0 }
        if v.isInfinite { return sign | X87State.c2 | X87State.c0 }
        if v == 0 { return sign | X87State.c3 }
        if v.isSubnormal { return sign | X87State.c3 | X87State.c2 }
        return sign | X87State.c2
    }

    /// FCMOVcc: a stack underflow's masked response moves the indefinite.
    private func conditionalMove(_ take: Bool, _ i: Int) {
        guard source(0) != nil, let v = source(i) else { return }
        if take { setST(0, v) }
    }

    // MARK: Dispatch

    func executeFPU(_ op: UInt32) throws(Fault) {
        let s = state
        if s.pointee.cr0 & (CR0.em | CR0.ts) != 0 { throw Fault(vector: 7) }
        try decodeModRM()
        let r = regField
        // FNSTENV, FNSTCW, FNSAVE, FNSTSW, FNCLEX, FNINIT (and the 8087's no-ops) do not wait.
        let waits = rmIsReg ? !((op == 0xDB || op == 0xDF) && r == 4) : !((op == 0xD9 || op == 0xDD) && r >= 6)
        if waits {
            guard try fpuReady() else { return }
            // FLDENV, FLDCW and FRSTOR are control instructions: they keep the pointers.
            if rmIsReg || !((op == 0xD9 && (r == 4 || r == 5)) || (op == 0xDD && r == 4)) { recordInstruction(op) }
        }
        let w = s.pointee.opsize32 ? 4 : 2
        if !rmIsReg {
            switch (op, r) {
            case (0xD8, _), (0xDC, _), (0xDA, _), (0xDE, _):
                let (v, flags): (Float80, UInt16)
                switch op {
                case 0xD8: (v, flags) = try loadReal(4)
                case 0xDC: (v, flags) = try loadReal(8)
                case 0xDA: (v, flags) = (try loadInt(4), 0)
                default: (v, flags) = (try loadInt(2), 0)
                }
                if r == 2 || r == 3 {
                    compareST(v, quiet: false, pops: r - 2, flags)
                } else if let a = source(0) {
                    arithmetic(r, dst: 0, a, v, flags)
                }
            case (0xD9, 0): let (v, flags) = try loadReal(4); push(v, flags)
            case (0xD9, 2), (0xD9, 3): try storeReal(4, pop: r == 3)
            case (0xD9, 4): try loadEnvironment(w)
            case (0xD9, 5):
                fpu.pointee.control = UInt16(truncatingIfNeeded: try readEA(0, 2))
                refreshErrorSummary()
            case (0xD9, 6): try storeEnvironment(w); fpu.pointee.control |= X87State.exceptionBits
            case (0xD9, 7): try writeEA(0, 2, UInt32(fpu.pointee.control))
            case (0xDB, 0): push(try loadInt(4))
            case (0xDB, 2), (0xDB, 3): try storeInt(4, pop: r == 3)
            case (0xDB, 5): push(try loadExtended(at: 0))
            case (0xDB, 7):
                guard let v = source(0) else { return }
                try storeExtended(v, at: 0)
                fpu.pointee.status &= ~X87State.c1
                fpop()
            case (0xDD, 0): let (v, flags) = try loadReal(8); push(v, flags)
            case (0xDD, 2), (0xDD, 3): try storeReal(8, pop: r == 3)
            case (0xDD, 4): try restoreState(w)
            case (0xDD, 6): try saveState(w)
            case (0xDD, 7): try writeEA(0, 2, UInt32(fpu.pointee.statusWord))
            case (0xDF, 0): push(try loadInt(2))
            case (0xDF, 2), (0xDF, 3): try storeInt(2, pop: r == 3)
            case (0xDF, 4): push(try loadBCD())
            case (0xDF, 5): push(try loadInt(8))
            case (0xDF, 6): try storeBCD()
            case (0xDF, 7): try storeInt(8, pop: true)
            default: throw Fault.ud
            }
            return
        }
        let i = Int(s.pointee.modrm & 7)
        switch op {
        case 0xD8:
            if r == 2 || r == 3 {
                compareST(source(i), quiet: false, pops: r - 2)
            } else if let a = source(0), let b = source(i) {
                arithmetic(r, dst: 0, a, b)
            }
        case 0xDC, 0xDE:
            // Register forms with ST(i) as destination: SUB/SUBR and DIV/DIVR trade places.
            if r == 2 || r == 3 {
                // DC D0-DF and DE D0-D7 are aliases of FCOM/FCOMP; DE D8-DF is FCOMPP.
                compareST(source(op == 0xDE && r == 3 ? 1 : i), quiet: false, pops: op == 0xDE ? r - 1 : r - 2)
            } else if let a = source(i), let b = source(0) {
                let swapped = r >= 4 ? r ^ 1 : r
                if arithmetic(swapped, dst: i, a, b) && op == 0xDE { fpop() }
            }
        case 0xD9: try fpuD9(r, i)
        case 0xDA:
            switch r {
            case 0: conditionalMove(cf(), i)
            case 1: conditionalMove(zf(), i)
            case 2: conditionalMove(cf() || zf(), i)
            case 3: conditionalMove(pf(), i)
            case 5 where i == 1: compareST(source(1), quiet: true, pops: 2) // FUCOMPP
            default: throw Fault.ud
            }
        case 0xDB:
            switch r {
            case 0: conditionalMove(!cf(), i)
            case 1: conditionalMove(!zf(), i)
            case 2: conditionalMove(!cf() && !zf(), i)
            case 3: conditionalMove(!pf(), i)
            case 4:
                switch i {
                case 2: // FNCLEX
                    fpu.pointee.status &= ~(X87State.exceptionBits | X87State.sf | X87State.es | X87State.busy)
                    releaseFERR()
                case 3: fninit()
                case 0, 1, 4: break // FENI, FDISI, FSETPM: no-ops after the 8087/287
                default: throw Fault.ud
                }
            case 5, 6: compareToEFLAGS(i, quiet: r == 5, pop: false)
            default: throw Fault.ud
            }
        case 0xDD:
            switch r {
            case 0: setTag((fpu.pointee.top + i) & 7, 3) // FFREE
            case 2, 3:
                guard let v = source(0) else { return }
                setST(i, v)
                fpu.pointee.status &= ~X87State.c1
                if r == 3 { fpop() }
            case 4, 5: compareST(source(i), quiet: true, pops: r - 4)
            default: throw Fault.ud
            }
        default: // DF
            switch r {
            case 0: setTag((fpu.pointee.top + i) & 7, 3); fpop() // FFREEP
            case 4 where i == 0: setReg16(0, UInt32(fpu.pointee.statusWord))
            case 5, 6: compareToEFLAGS(i, quiet: r == 5, pop: true)
            default: throw Fault.ud
            }
        }
    }

    @inline(__always)
    private func recordInstruction(_ op: UInt32) {
        let s = state
        let f = fpu
        f.pointee.lastIP = s.pointee.startEIP
        f.pointee.lastCS = seg[SegReg.cs].selector
        f.pointee.lastOpcode = UInt16((op & 7) << 8 | s.pointee.modrm)
        if !rmIsReg {
            f.pointee.lastDP = s.pointee.eaOffset
            f.pointee.lastDS = seg[s.pointee.eaSeg].selector
        }
    }

    private func fpuD9(_ r: Int, _ i: Int) throws(Fault) {
        switch r {
        case 0:
            guard let v = source(i) else { return }
            push(v)
        case 1:
            guard let a = source(0), let b = source(i) else { return }
            setST(0, b)
            setST(i, a)
            fpu.pointee.status &= ~X87State.c1
        case 2 where i == 0: break // FNOP
        case 2, 3: throw Fault.ud
        case 4:
            switch i {
            case 0, 1:
                guard !isEmpty(0) else {
                    if !stackFault(overflow: false) { setST(0, X87State.indefinite) }
                    return
                }
                setST(0, i == 0 ? -st(0) : abs(st(0)))
                fpu.pointee.status &= ~X87State.c1
            case 4: compareST(0, quiet: false, pops: 0) // FTST
            case 5: setConditions(examine())
            default: throw Fault.ud
            }
        case 5:
            let constants: [Float80] = [1, log2(10), Float80(M_LOG2E), Float80.pi, log10(2), Float80(M_LN2), 0]
            if i == 7 { throw Fault.ud }
            push(constants[i])
        case 6 where i == 6 || i == 7:
            fpu.pointee.top = (fpu.pointee.top + (i == 6 ? -1 : 1)) & 7 // FDECSTP, FINCSTP
            fpu.pointee.status &= ~X87State.c1
        default:
            compute(r == 6 ? i : 8 + i)
        }
    }

    /// D9 F0-FF but FDECSTP/FINCSTP, numbered 0-15.
    private func compute(_ n: Int) {
        guard let x = source(0) else { return }
        let two = (0x232A >> n) & 1 != 0 // FYL2X FPATAN FPREM1 FPREM FYL2XP1 FSCALE read ST(1)
        let y: Float80
        if two {
            guard let v = source(1) else { return }
            y = v
        } else {
            y = 1
        }
        let pushes = n == 2 || n == 4 || n == 11
        // FSIN, FCOS, FSINCOS, FPTAN leave an operand beyond 2^63 alone and report it in C2.
        if (0xC804 >> n) & 1 != 0 && x.isFinite && abs(x) >= 0x1p63 {
            fpu.pointee.status = (fpu.pointee.status & ~X87State.conditionBits) | X87State.c2
            return
        }
        if pushes && !isEmpty(7) {
            if !stackFault(overflow: true) {
                setST(0, X87State.indefinite)
                fpush(X87State.indefinite)
            }
            return
        }
        if n == 10 { arithmetic(-1, dst: 0, x, y); return } // FSQRT
        if operandExceptions(x, y) { return }
        if n == 4 { return extract(x) }
        if n == 12 { return roundToInteger(x) }

        let (a, b) = armHostFlags(x, y)
        var r: Float80, extra: Float80 = 1
        switch n {
        case 0: r = exp2l(a) - 1
        case 1: r = b * log2l(a)
        case 2: r = tanl(a)
        case 3: r = atan2l(b, a)
        case 5: r = a.remainder(dividingBy: b)
        case 8: r = a.truncatingRemainder(dividingBy: b)
        case 9: r = b * (log1pl(a) * Float80(M_LOG2E))
        case 11: r = sinl(a); extra = cosl(a)
        case 13:
            let k = b.rounded(.towardZero)
            r = k.isFinite ? scalbnl(a, Int32(max(-100_000, min(100_000, k)))) : a * exp2l(k)
        case 14: r = sinl(a)
        default: r = cosl(a)
        }
        let (result, second, flags) = collectHostFlags(r, extra)
        guard commitFlags(flags) else { return }
        var conditions: UInt16 = 0
        if n == 5 || n == 8 { conditions = quotientBits(a, b, ieee: n == 5) }
        setConditions(conditions)
        if n == 1 || n == 3 || n == 9 {
            setST(1, result)
            fpop()
        } else {
            setST(0, result)
            if pushes { fpush(second) }
        }
    }

    /// FPREM (truncating) and FPREM1 (round to nearest): C0, C3, C1 get the quotient's low bits.
    private func quotientBits(_ a: Float80, _ b: Float80, ieee: Bool) -> UInt16 {
        let q = (a / b).rounded(ieee ? .toNearestOrEven : .towardZero)
        guard q.isFinite else { return 0 }
        let bits = UInt64(abs(q).truncatingRemainder(dividingBy: 8))
        var c: UInt16 = 0
        if bits & 1 != 0 { c |= X87State.c1 }
        if bits & 2 != 0 { c |= X87State.c3 }
        if bits & 4 != 0 { c |= X87State.c0 }
        return c
    }

    /// FXTRACT: ST(0) becomes the exponent, the significand is pushed. Zero is ZE (masked:
    /// exponent -infinity).
    private func extract(_ v: Float80) {
        if v == 0 && signalFPU(X87State.ze) { return }
        let exponent: Float80 = v == 0 ? -.infinity : v.isNaN ? v : v.isInfinite ? .infinity : Float80(v.exponent)
        setST(0, exponent)
        fpush(!v.isFinite || v == 0 ? v : Float80(sign: v.sign, exponent: 0, significand: v.significand))
        setConditions(0)
    }

    /// FRNDINT by RC: PE when the value changes, IE for a signalling NaN (made quiet).
    private func roundToInteger(_ v: Float80) {
        let r = v.isNaN ? Interpreter.quiet(v) : round(v)
        let flags = v.isSignalingNaN ? X87State.ie : (v.isFinite && r != v ? X87State.pe : 0)
        if signalFPU(flags, blocking: X87State.ie) { return }
        setST(0, r)
        setConditions(0)
    }
}
