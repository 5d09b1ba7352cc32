#if canImport(Glibc)
import Glibc
#endif

/// The x87 FPU (ESC opcodes D8-DF), computed in Float80. All FPU exceptions behave as masked
/// (the default after FNINIT): results are the IEEE defaults, #MF is never raised.
///
/// Where this differs from a real 80-bit x87: Float80 is the same format, but the host computes
/// every result at full 64-bit precision with round-to-nearest: precision control (FCW.PC) is
/// ignored, and rounding control (FCW.RC) is honoured only by integer stores and FRNDINT (real
/// stores to 32/64 bits round to nearest); FSIN/FCOS/FPTAN/F2XM1/FYL2X go through the C library and can differ
/// from Intel's in the last bit or two; the exception flags (IE, DE, ZE, OE, UE, PE) and stack
/// fault (SF) are not recorded, and pseudo-denormal/unnormal encodings are treated as the host
/// treats them. CR0.EM/TS raise #NM; FXSAVE/FXRSTOR are not implemented (CPUID reports no FXSR).
extension Interpreter {
    // MARK: Register stack

    @inline(__always) func st(_ i: Int) -> Float80 { fpr[(fpu.pointee.top + i) & 7] }

    func setST(_ i: Int, _ v: Float80) {
        let p = (fpu.pointee.top + i) & 7
        fpr[p] = v
        setTag(p, Interpreter.tag(for: v))
    }

    static func tag(for v: Float80) -> UInt16 {
        if v == 0 { return 1 }
        return v.isFinite && !v.isSubnormal ? 0 : 2
    }

    private func setTag(_ p: Int, _ t: UInt16) {
        fpu.pointee.tags = (fpu.pointee.tags & ~(3 << UInt16(2 * p))) | (t << UInt16(2 * p))
    }

    private func isEmpty(_ i: Int) -> Bool {
        let p = (fpu.pointee.top + i) & 7
        return (fpu.pointee.tags >> UInt16(2 * p)) & 3 == 3
    }

    func fpush(_ v: Float80) {
        fpu.pointee.top = (fpu.pointee.top - 1) & 7
        setST(0, v)
    }

    func fpop() {
        setTag(fpu.pointee.top, 3)
        fpu.pointee.top = (fpu.pointee.top + 1) & 7
    }

    private func setConditions(_ bits: UInt16) {
        fpu.pointee.status = (fpu.pointee.status & ~X87State.conditionBits) | bits
    }

    func fninit() {
        fpu.pointee = X87State()
    }

    // MARK: Memory formats

    private func loadReal(_ width: Int) throws(Fault) -> Float80 {
        switch width {
        case 4: return Float80(Float(bitPattern: try readEA(0, 4)))
        case 8:
            let lo = UInt64(try readEA(0, 4)), hi = UInt64(try readEA(4, 4))
            return Float80(Double(bitPattern: hi << 32 | lo))
        default:
            var bytes = [UInt8](repeating: 0, count: 16)
            for i in 0..<10 { bytes[i] = UInt8(try readEA(UInt32(i), 1)) }
            return bytes.withUnsafeBytes { $0.loadUnaligned(as: Float80.self) }
        }
    }

    private func storeReal(_ v: Float80, _ width: Int) throws(Fault) {
        switch width {
        case 4: try writeEA(0, 4, Float(v).bitPattern)
        case 8:
            let bits = Double(v).bitPattern
            try writeEA(0, 4, UInt32(truncatingIfNeeded: bits))
            try writeEA(4, 4, UInt32(truncatingIfNeeded: bits >> 32))
        default:
            var value = v
            let bytes = withUnsafeBytes(of: &value) { Array($0.prefix(10)) }
            for i in 0..<10 { try writeEA(UInt32(i), 1, UInt32(bytes[i])) }
        }
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

    private func storeInt(_ v: Float80, _ width: Int) throws(Fault) {
        let r = round(v)
        let limit = Float80(sign: .plus, exponent: width * 8 - 1, significand: 1)
        // Out of range or NaN: the "integer indefinite" (most negative value).
        let n: Int64 = r.isNaN || r >= limit || r < -limit ? Int64.min : Int64(r)
        switch width {
        case 2: try writeEA(0, 2, n == Int64.min ? 0x8000 : UInt32(truncatingIfNeeded: n))
        case 4: try writeEA(0, 4, n == Int64.min ? 0x8000_0000 : UInt32(truncatingIfNeeded: n))
        default:
            try writeEA(0, 4, UInt32(truncatingIfNeeded: n))
            try writeEA(4, 4, UInt32(truncatingIfNeeded: n >> 32))
        }
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

    private func storeBCD(_ v: Float80) throws(Fault) {
        var n = UInt64(min(abs(round(v)), 999_999_999_999_999_999))
        for i in 0..<9 {
            let lo = n % 10; n /= 10
            let hi = n % 10; n /= 10
            try writeEA(UInt32(i), 1, UInt32(hi << 4 | lo))
        }
        try writeEA(9, 1, v.sign == .minus ? 0x80 : 0)
    }

    // MARK: Environment

    /// FNSTENV/FNSAVE layout: 14 bytes with a 16-bit operand size, 28 with 32.
    private func storeEnvironment(_ w: Int) throws(Fault) {
        let f = fpu.pointee
        let words: [UInt32] = [UInt32(f.control), UInt32(f.statusWord), UInt32(fullTagWord()), 0, 0, 0, 0]
        for (i, v) in words.enumerated() { try writeEA(UInt32(i * w), w, v) }
    }

    private func loadEnvironment(_ w: Int) throws(Fault) {
        fpu.pointee.control = UInt16(truncatingIfNeeded: try readEA(0, 2))
        let sw = UInt16(truncatingIfNeeded: try readEA(UInt32(w), 2))
        fpu.pointee.status = sw & ~0x3800
        fpu.pointee.top = Int((sw >> 11) & 7)
        fpu.pointee.tags = UInt16(truncatingIfNeeded: try readEA(UInt32(2 * w), 2))
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

    // MARK: Arithmetic

    /// The eight arithmetic forms: ADD MUL COM COMP SUB SUBR DIV DIVR, `a` being the destination.
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

    private func compare(_ a: Float80, _ b: Float80) -> UInt16 {
        if a.isNaN || b.isNaN { return X87State.c0 | X87State.c2 | X87State.c3 }
        if a < b { return X87State.c0 }
        return a == b ? X87State.c3 : 0
    }

    /// FCOMI/FUCOMI: the comparison into ZF, PF, CF.
    private func compareToEFLAGS(_ a: Float80, _ b: Float80) {
        let c = compare(a, b)
        var f = flagsValue() & Flag.arith & ~(Flag.ZF | Flag.PF | Flag.CF | Flag.OF | Flag.SF | Flag.AF)
        if c & X87State.c3 != 0 { f |= Flag.ZF }
        if c & X87State.c2 != 0 { f |= Flag.PF }
        if c & X87State.c0 != 0 { f |= Flag.CF }
        setArith(f)
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

    /// FPREM (truncating) and FPREM1 (round to nearest): C0, C3, C1 get the quotient's low bits.
    private func partialRemainder(ieee: Bool) {
        let a = st(0), b = st(1)
        let q = (a / b).rounded(ieee ? .toNearestOrEven : .towardZero)
        let r = ieee ? a.remainder(dividingBy: b) : a.truncatingRemainder(dividingBy: b)
        setST(0, r)
        var c: UInt16 = 0
        if q.isFinite {
            let bits = UInt64(abs(q).truncatingRemainder(dividingBy: 8))
            if bits & 1 != 0 { c |= X87State.c1 }
            if bits & 2 != 0 { c |= X87State.c3 }
            if bits & 4 != 0 { c |= X87State.c0 }
        }
        setConditions(c)
    }

    // MARK: Dispatch

    func executeFPU(_ op: UInt32) throws(Fault) {
        let s = state
        if s.pointee.cr0 & 0xC != 0 { throw Fault(vector: 7) } // EM or TS: #NM
        try decodeModRM()
        let r = regField
        let w = s.pointee.opsize32 ? 4 : 2
        if !rmIsReg {
            switch (op, r) {
            case (0xD8, _), (0xDC, _), (0xDA, _), (0xDE, _):
                let v: Float80
                switch op {
                case 0xD8: v = try loadReal(4)
                case 0xDC: v = try loadReal(8)
                case 0xDA: v = try loadInt(4)
                default: v = try loadInt(2)
                }
                if r == 2 || r == 3 {
                    setConditions(compare(st(0), v))
                    if r == 3 { fpop() }
                } else {
                    setST(0, arith(r, st(0), v))
                }
            case (0xD9, 0): fpush(try loadReal(4))
            case (0xD9, 2): try storeReal(st(0), 4)
            case (0xD9, 3): try storeReal(st(0), 4); fpop()
            case (0xD9, 4): try loadEnvironment(w)
            case (0xD9, 5): fpu.pointee.control = UInt16(truncatingIfNeeded: try readEA(0, 2))
            case (0xD9, 6): try storeEnvironment(w)
            case (0xD9, 7): try writeEA(0, 2, UInt32(fpu.pointee.control))
            case (0xDB, 0): fpush(try loadInt(4))
            case (0xDB, 2): try storeInt(st(0), 4)
            case (0xDB, 3): try storeInt(st(0), 4); fpop()
            case (0xDB, 5): fpush(try loadReal(10))
            case (0xDB, 7): try storeReal(st(0), 10); fpop()
            case (0xDD, 0): fpush(try loadReal(8))
            case (0xDD, 2): try storeReal(st(0), 8)
            case (0xDD, 3): try storeReal(st(0), 8); fpop()
            case (0xDD, 4):
                try loadEnvironment(w)
                for i in 0..<8 {
                    let saved = s.pointee.eaOffset
                    s.pointee.eaOffset = saved &+ UInt32(7 * w + i * 10)
                    defer { s.pointee.eaOffset = saved }
                    fpr[(fpu.pointee.top + i) & 7] = try loadReal(10)
                }
            case (0xDD, 6):
                try storeEnvironment(w)
                for i in 0..<8 {
                    let saved = s.pointee.eaOffset
                    s.pointee.eaOffset = saved &+ UInt32(7 * w + i * 10)
                    defer { s.pointee.eaOffset = saved }
                    try storeReal(st(i), 10)
                }
                fninit()
            case (0xDD, 7): try writeEA(0, 2, UInt32(fpu.pointee.statusWord))
            case (0xDF, 0): fpush(try loadInt(2))
            case (0xDF, 2): try storeInt(st(0), 2)
            case (0xDF, 3): try storeInt(st(0), 2); fpop()
            case (0xDF, 4): fpush(try loadBCD())
            case (0xDF, 5): fpush(try loadInt(8))
            case (0xDF, 6): try storeBCD(st(0)); fpop()
            case (0xDF, 7): try storeInt(st(0), 8); fpop()
            default: throw Fault.ud
            }
            return
        }
        let i = Int(s.pointee.modrm & 7)
        switch op {
        case 0xD8:
            if r == 2 || r == 3 {
                setConditions(compare(st(0), st(i)))
                if r == 3 { fpop() }
            } else {
                setST(0, arith(r, st(0), st(i)))
            }
        case 0xDC, 0xDE:
            // Register forms with ST(i) as destination: SUB/SUBR and DIV/DIVR trade places.
            if r == 2 || r == 3 {
                setConditions(compare(st(0), st(i)))
                if r == 3 || op == 0xDE { fpop() }
                if op == 0xDE && r == 3 { fpop() } // FCOMPP (DE D9)
            } else {
                let swapped = r >= 4 ? r ^ 1 : r
                setST(i, arith(swapped, st(i), st(0)))
                if op == 0xDE { fpop() }
            }
        case 0xD9: try fpuD9(r, i)
        case 0xDA:
            switch r {
            case 0: if cf() { setST(0, st(i)) }
            case 1: if zf() { setST(0, st(i)) }
            case 2: if cf() || zf() { setST(0, st(i)) }
            case 3: if pf() { setST(0, st(i)) }
            case 5 where i == 1:
                setConditions(compare(st(0), st(1)))
                fpop(); fpop()
            default: throw Fault.ud
            }
        case 0xDB:
            switch r {
            case 0: if !cf() { setST(0, st(i)) }
            case 1: if !zf() { setST(0, st(i)) }
            case 2: if !cf() && !zf() { setST(0, st(i)) }
            case 3: if !pf() { setST(0, st(i)) }
            case 4:
                switch i {
                case 2: fpu.pointee.status &= 0x7F00 // FNCLEX
                case 3: fninit()
                case 0, 1, 4: break // FENI, FDISI, FSETPM: no-ops after the 8087/287
                default: throw Fault.ud
                }
            case 5, 6: compareToEFLAGS(st(0), st(i))
            default: throw Fault.ud
            }
        case 0xDD:
            switch r {
            case 0: setTag((fpu.pointee.top + i) & 7, 3)
            case 2: setST(i, st(0))
            case 3: setST(i, st(0)); fpop()
            case 4: setConditions(compare(st(0), st(i)))
            case 5: setConditions(compare(st(0), st(i))); fpop()
            default: throw Fault.ud
            }
        default: // DF
            switch r {
            case 0: setTag((fpu.pointee.top + i) & 7, 3); fpop()
            case 4 where i == 0: setReg16(0, UInt32(fpu.pointee.statusWord))
            case 5, 6: compareToEFLAGS(st(0), st(i)); fpop()
            default: throw Fault.ud
            }
        }
    }

    private func fpuD9(_ r: Int, _ i: Int) throws(Fault) {
        switch r {
        case 0: fpush(st(i))
        case 1:
            let a = st(0)
            setST(0, st(i))
            setST(i, a)
        case 2 where i == 0: break // FNOP
        case 2, 3: throw Fault.ud
        case 4:
            switch i {
            case 0: setST(0, -st(0))
            case 1: setST(0, abs(st(0)))
            case 4: setConditions(compare(st(0), 0))
            case 5: setConditions(examine())
            default: throw Fault.ud
            }
        case 5:
            let constants: [Float80] = [1, log2(10), Float80(M_LOG2E), Float80.pi, log10(2), Float80(M_LN2), 0]
            if i == 7 { throw Fault.ud }
            fpush(constants[i])
        case 6:
            switch i {
            case 0: setST(0, exp2l(st(0)) - 1)
            case 1: setST(1, st(1) * log2l(st(0))); fpop()
            case 2: setST(0, tanl(st(0))); fpush(1)
            case 3: setST(1, atan2l(st(1), st(0))); fpop()
            case 4:
                let v = st(0)
                let e = v == 0 ? -Float80.infinity : Float80(v.exponent)
                setST(0, e)
                fpush(v == 0 ? v : Float80(sign: v.sign, exponent: 0, significand: v.significand))
            case 5: partialRemainder(ieee: true)
            case 6: fpu.pointee.top = (fpu.pointee.top - 1) & 7
            default: fpu.pointee.top = (fpu.pointee.top + 1) & 7
            }
        default:
            switch i {
            case 0: partialRemainder(ieee: false)
            case 1: setST(1, st(1) * log2l(st(0) + 1)); fpop()
            case 2: setST(0, st(0).squareRoot())
            case 3:
                let v = st(0)
                setST(0, sinl(v))
                fpush(cosl(v))
            case 4: setST(0, round(st(0)))
            case 5:
                let n = st(1).rounded(.towardZero)
                setST(0, n.isFinite ? scalbnl(st(0), Int32(clamping: Int(n))) : st(0) * exp2l(n))
            case 6: setST(0, sinl(st(0)))
            default: setST(0, cosl(st(0)))
            }
            setConditions(0)
        }
    }
}
