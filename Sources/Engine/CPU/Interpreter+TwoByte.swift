/// Two-byte (0F xx) opcodes but the hot ones (`HotOpcode.twoByteTable`: Jcc, SETcc, CMOVcc,
/// MOVZX/MOVSX, IMUL r, r/m), which the decoder turns into hot classes.
extension Interpreter {
    func executeTwoByte() throws(Fault) {
        let s = state
        let w = s.pointee.opsize32 ? 4 : 2
        let op = try fetch8()
        switch op {
        case 0x00: try group6()
        case 0x01: try group7(w)
        case 0x02, 0x03: try loadAccessOrLimit(lsl: op == 0x03, w)
        case 0x06:
            try requireCPL0()
            s.pointee.cr0 &= ~UInt32(8)
        case 0x08, 0x09: try requireCPL0() // INVD/WBINVD: no caches to flush
        case 0x0B, 0xFF: throw Fault.ud
        case 0x0D, 0x18...0x1F: try decodeModRM() // hint NOPs
        case 0x20, 0x21, 0x22, 0x23: try moveControl(op)
        case 0x30: try writeMSR()
        case 0x31: try readTSC()
        case 0x32: try readMSR()
        case 0xA0, 0xA8:
            try push(UInt32(seg[op == 0xA0 ? SegReg.fs : SegReg.gs].selector), w)
        case 0xA1, 0xA9: try popSegment(op == 0xA1 ? SegReg.fs : SegReg.gs, w)
        case 0xA2: cpuid()
        case 0xA3, 0xAB, 0xB3, 0xBB:
            try decodeModRM()
            try bitOp(Int((op >> 3) & 3), bitIndex: reg(regField, w), w, immediate: false)
        case 0xBA:
            try decodeModRM()
            if regField < 4 { throw Fault.ud }
            try bitOp(regField & 3, bitIndex: try fetch8(), w, immediate: true)
        case 0xA4, 0xA5, 0xAC, 0xAD:
            try decodeModRM()
            let dst = try readRM(w)
            let count = op & 1 == 0 ? try fetch8() : gpr[1]
            try writeRM(w, doubleShift(left: op < 0xA8, dst, reg(regField, w), count, w))
        case 0xAE: try fxsaveGroup()
        case 0xB0, 0xB1:
            let width = op == 0xB0 ? 1 : w
            try decodeModRM()
            let dst = try readRM(width)
            let acc = reg(0, width)
            _ = alu(7, acc, dst, width)
            if acc == dst { try writeRM(width, reg(regField, width)) } else { try writeRM(width, dst); setReg(0, width, dst) }
        case 0xB2, 0xB4, 0xB5:
            try decodeModRM()
            if rmIsReg { throw Fault.ud }
            let off = try readEA(0, w)
            let sel = try readEA(UInt32(w), 2)
            try loadSegment(op == 0xB2 ? SegReg.ss : (op == 0xB4 ? SegReg.fs : SegReg.gs), UInt16(sel))
            setReg(regField, w, off)
        case 0xBC, 0xBD:
            try decodeModRM()
            let v = try readRM(w)
            if v == 0 {
                setArith((flagsValue() & Flag.arith & ~Flag.ZF) | Flag.ZF)
            } else {
                setArith(flagsValue() & Flag.arith & ~Flag.ZF)
                setReg(regField, w, UInt32(op == 0xBC ? v.trailingZeroBitCount : 31 - v.leadingZeroBitCount))
            }
        case 0xC0, 0xC1:
            let width = op == 0xC0 ? 1 : w
            try decodeModRM()
            let dst = try readRM(width)
            let r = alu(0, dst, reg(regField, width), width)
            // The source gets the old destination first, so `xadd eax, eax` keeps the sum; a
            // memory destination is written first, so a fault leaves the register alone.
            if rmIsReg { setReg(regField, width, dst) }
            try writeRM(width, r)
            if !rmIsReg { setReg(regField, width, dst) }
        case 0xC7:
            try decodeModRM()
            if regField != 1 || rmIsReg { throw Fault.ud }
            let lo = try readEA(0, 4)
            let hi = try readEA(4, 4)
            if lo == gpr[0] && hi == gpr[2] {
                try writeEA(0, 4, gpr[3])
                try writeEA(4, 4, gpr[1])
                setFlag(Flag.ZF, true)
            } else {
                try writeEA(0, 4, lo)
                try writeEA(4, 4, hi)
                gpr[0] = lo
                gpr[2] = hi
                setFlag(Flag.ZF, false)
            }
        case 0xC8...0xCF:
            let i = Int(op & 7)
            gpr[i] = gpr[i].byteSwapped
        case 0x33: throw Fault.gp() // RDPMC: there are no performance counters to read
        default: throw Fault.ud // MMX, SSE, SYSENTER...: none reported in CPUID, as a CPU without them
        }
    }

    /// BT BTS BTR BTC (`kind` 0...3). A register bit index reaches beyond a memory operand.
    private func bitOp(_ kind: Int, bitIndex: UInt32, _ w: Int, immediate: Bool) throws(Fault) {
        let s = state
        let bits = UInt32(w * 8)
        var extra: UInt32 = 0
        if !rmIsReg && !immediate {
            let signed = w == 2 ? Int32(Int16(truncatingIfNeeded: bitIndex)) : Int32(bitPattern: bitIndex)
            extra = UInt32(bitPattern: (signed >> (w == 2 ? 4 : 5)) * Int32(w))
        }
        let bit = bitIndex & (bits - 1)
        let v: UInt32
        if rmIsReg { v = reg(Int(s.pointee.modrm & 7), w) } else { v = try readEA(extra, w) }
        setFlag(Flag.CF, (v >> bit) & 1 != 0)
        let r: UInt32
        switch kind {
        case 1: r = v | (1 << bit)
        case 2: r = v & ~(1 << bit)
        case 3: r = v ^ (1 << bit)
        default: return
        }
        if rmIsReg { setReg(Int(s.pointee.modrm & 7), w, r) } else { try writeEA(extra, w, r) }
    }
}
