import Synchronization

/// Decoding prefixes and executing one-byte opcodes: one `switch`, state behind pointers.
extension Interpreter {
    /// Runs a block: the instruction at EIP, then the next while it is cached in the fetch
    /// window (so in the same page) until the budget is spent or an instruction of a class that
    /// ends blocks runs (`HotOpcode.endsBlock`: branches, mode, CS and interrupt changes, HLT,
    /// PAUSE, port I/O). So the loop's checks are per block, and `irqCheck` is not read per
    /// instruction: what sets it inside a block is either such a class or an APIC write, whose
    /// interrupt waits for the block's end; single-step, breakpoints and interrupt shadows get
    /// blocks of one from the run loop. A near branch (`HotOpcode.isNearBranch`) goes on at its
    /// target when that is cached in the fetch window and neither the stop flag nor `irqCheck`
    /// is up, so that a loop inside a page runs without the run loop but still sees a kick.
    /// An instruction found next once is linked to it: later runs step to the next slot without
    /// looking at the window again, as a link never leaves its page and only instructions of
    /// windows that reach their page's end are linked (`DecodeCache.cutWindow`).
    /// `left` counts down per instruction run (a fused pair takes one more itself); a faulting
    /// one is not counted here. One call of `execute`, so that its switch is inlined once, into
    /// the run loop.
    @inline(__always)
    func runBlock(_ left: inout Int) throws(Fault) {
        let s = state
        var d: UnsafeMutablePointer<DecodedInstruction>
        if let hit = cached() { d = hit } else { d = try decode() }
        while true {
            try execute(d, &left)
            left &-= 1
            // Exactly 0 ends the budget (one flag test after the decrement): each instruction
            // starts with at least 1 left, and a fused pair takes its second only from 2 up.
            if _slowPath(left == 0) { return }
            let stride = Int(d.pointee.linkStride)
            if _fastPath(stride != 0) {
                d = (UnsafeMutableRawPointer(d) + stride).assumingMemoryBound(to: DecodedInstruction.self)
                let e = s.pointee.eip
                s.pointee.startEIP = e
                s.pointee.eip = e &+ UInt32(d.pointee.length)
            } else if d.pointee.hot.isNearBranch {
                guard !stopRequested.load(ordering: .relaxed), !s.pointee.irqCheck, let target = cached() else { return }
                d = target
            } else {
                guard !d.pointee.hot.endsBlock, let next = following(d) else { return }
                d.pointee.linkStride = d.pointee.tag & DecodeCache.cutWindow == 0 ? d.pointee.strideToNext : 0
                d = next
            }
        }
    }

    /// The instruction after `d`, which did not branch (it does not end blocks), EIP moved past
    /// it, when it is cached and lies wholly inside the fetch window. A page's addresses fill
    /// consecutive slots, so its slot is `d`'s plus `d`'s length, tagged `d`'s tag plus that
    /// length (`DecodeCache.padding` keeps the slots after the last and after scratch readable).
    @inline(__always)
    func following(_ d: UnsafeMutablePointer<DecodedInstruction>) -> UnsafeMutablePointer<DecodedInstruction>? {
        let s = state
        let length = Int(d.pointee.length)
        let n = d + length
        let e = s.pointee.eip
        s.pointee.startEIP = e
        let at = e &- s.pointee.fetchLo
        guard n.pointee.tag == d.pointee.tag &+ UInt64(length) && at < s.pointee.fetchLen
                && at &+ UInt32(n.pointee.length) <= s.pointee.fetchLen else { return nil }
        s.pointee.eip = e &+ UInt32(n.pointee.length)
        return n
    }

    /// The instruction at EIP from `DecodeCache`, EIP moved past it, when it lies wholly inside
    /// the fetch window (which bounds it by the page and the CS limit) and was decoded before in
    /// the same mode; nil sends the caller to `decode`.
    @inline(__always)
    func cached() -> UnsafeMutablePointer<DecodedInstruction>? {
        let s = state
        let e = s.pointee.eip
        s.pointee.startEIP = e
        let at = e &- s.pointee.fetchLo
        let key = s.pointee.fetchKey &+ UInt64(at)
        let d = decoded.slot(UInt32(truncatingIfNeeded: key))
        guard _fastPath(at < s.pointee.fetchLen && d.pointee.tag == key
                        && at &+ UInt32(d.pointee.length) <= s.pointee.fetchLen) else { return nil }
        s.pointee.eip = e &+ UInt32(d.pointee.length)
        return d
    }

    /// Decodes the instruction at EIP (leaving EIP after the bytes decoded) into its cache slot
    /// when it lies in one fetch window, else into `DecodeCache.scratch`. EIP outside the window
    /// (a jump to another page) comes here too: the first fetch re-aims the window, and the
    /// instruction may be in the cache after all.
    @inline(never)
    func decode() throws(Fault) -> UnsafeMutablePointer<DecodedInstruction> {
        let s = state
        let code32 = s.pointee.code32
        var op = try fetch8()
        let first = s.pointee.startEIP &- s.pointee.fetchLo
        if first < s.pointee.fetchLen {
            let key = s.pointee.fetchKey &+ UInt64(first)
            let slot = decoded.slot(UInt32(truncatingIfNeeded: key))
            if slot.pointee.tag == key
                && first &+ UInt32(slot.pointee.length) <= s.pointee.fetchLen {
                s.pointee.eip = s.pointee.startEIP &+ UInt32(slot.pointee.length)
                return slot
            }
        }
        var d = DecodedInstruction()
        d.prefixes.opsize32 = code32
        d.prefixes.addrsize32 = code32
        if _slowPath(hotOps[Int(op)] == .prefix) { op = try decodePrefixes(op, &d) }
        d.opcode = UInt8(op)
        d.hot = hotOps[Int(op)]
        if d.hot == .twoByte { try decodeTwoByteOpcode(&d) }
        try decodeOperands(&d)
        if d.modrm >= 0xC0 { useRegisterForm(&d) }
        if let fused = d.hot.withJcc, d.prefixes.opsize32 == code32 { try fuseJcc(&d, fused) }
        let start = s.pointee.startEIP
        let length = s.pointee.eip &- start
        let at = start &- s.pointee.fetchLo
        d.length = UInt8(truncatingIfNeeded: length)
        d.dispatch = d.prefixes.opsize32 ? dispatch32(d) : .operand16
        guard at < s.pointee.fetchLen && at &+ length <= s.pointee.fetchLen else {
            decoded.scratch.pointee = d
            return decoded.scratch
        }
        d.tag = s.pointee.fetchKey &+ UInt64(at)
        if decoded.insert(d) { tlb.flushWrites() }
        return decoded.slot(UInt32(truncatingIfNeeded: d.tag))
    }

    /// `d`'s case in the 32-bit copy of the switch: its class, but the register forms of the
    /// ALU ops, group 1 and group 2 take the case of their operation, and Jcc that of its condition.
    private func dispatch32(_ d: DecodedInstruction) -> HotOpcode {
        switch d.hot {
        case .aluReg: HotOpcode(rawValue: HotOpcode.addReg.rawValue + ((d.opcode >> 3) & 7)) ?? .aluReg
        case .group1Reg: HotOpcode(rawValue: HotOpcode.addImm.rawValue + ((d.modrm >> 3) & 7)) ?? .group1Reg
        case .jcc: HotOpcode(rawValue: HotOpcode.jo.rawValue + (d.opcode & 0xF)) ?? .jcc
        case .shiftReg where d.opcode != 0xD3: HotOpcode(rawValue: HotOpcode.rolReg.rawValue + ((d.modrm >> 3) & 7)) ?? .shiftReg
        default: d.hot
        }
    }

    /// Records the prefixes starting with `first`; returns the opcode byte after them.
    @inline(never)
    func decodePrefixes(_ first: UInt32, _ d: inout DecodedInstruction) throws(Fault) -> UInt32 {
        let s = state
        let code32 = s.pointee.code32
        var op = first
        var locked = false
        while hotOps[Int(op)] == .prefix {
            switch op {
            case 0x66: d.prefixes.opsize32 = !code32
            case 0x67: d.prefixes.addrsize32 = !code32
            case 0x26, 0x2E, 0x36, 0x3E: d.prefixes.segOverride = Int8((op >> 3) & 3)
            case 0x64, 0x65: d.prefixes.segOverride = Int8(op - 0x60)
            case 0xF2, 0xF3: d.prefixes.rep = UInt8(op)
            default: locked = true
            }
            // A 386 refuses instructions longer than 15 bytes.
            if s.pointee.eip &- s.pointee.startEIP > 14 { throw Fault.gp() }
            op = try fetch8()
        }
        if locked { try validateLock(op) }
        return op
    }

    /// The second byte of a two-byte opcode with a hot class (`HotOpcode.twoByteTable`) becomes
    /// `d`'s opcode; for the others EIP goes back to it, as `executeTwoByte` fetches it itself.
    @inline(__always)
    private func decodeTwoByteOpcode(_ d: inout DecodedInstruction) throws(Fault) {
        let s = state
        let at = s.pointee.eip
        let second = try fetch8()
        let hot = HotOpcode.twoByteTable[Int(second)]
        if hot == .twoByte {
            s.pointee.eip = at
            return
        }
        d.opcode = UInt8(second)
        d.hot = hot
    }

    /// The ModRM, SIB, displacement and immediate bytes a hot opcode takes.
    @inline(__always)
    private func decodeOperands(_ d: inout DecodedInstruction) throws(Fault) {
        let op = UInt32(d.opcode)
        let w = d.prefixes.opsize32 ? 4 : 2
        switch d.hot {
        case .movStore, .movLoad, .test, .aluStore, .aluLoad, .lea, .groupFF, .movStore8, .movLoad8,
             .alu8Store, .alu8Load, .test8, .xchg8, .xchg, .groupFE, .movx8, .movx16, .setcc, .cmov, .imulRM:
            try decodeModRM(&d)
        case .movImmRM:
            try decodeModRM(&d)
            if d.modrm & 0x38 == 0 { d.imm = try fetchImm(w) } // else #UD when it runs
        case .movImm8RM:
            try decodeModRM(&d)
            if d.modrm & 0x38 == 0 { d.imm = try fetch8() }
        case .group1:
            try decodeModRM(&d)
            d.imm = op == 0x81 ? try fetchImm(w) : signExtend8(try fetch8())
        case .group1Byte:
            try decodeModRM(&d)
            d.imm = try fetch8()
        case .shift:
            try decodeModRM(&d)
            if op <= 0xC1 { d.imm = try fetch8() & 31 } else if op <= 0xD1 { d.imm = 1 } // D2/D3 count by CL
        case .group3:
            try decodeModRM(&d)
            if d.modrm & 0x30 == 0 { d.imm = try fetchImm(op == 0xF6 ? 1 : w) } // TEST r/m, imm
        case .imul:
            try decodeModRM(&d)
            d.imm = op == 0x69 ? try fetchImm(w) : signExtend8(try fetch8())
        case .jcc where op >= 0x80: d.imm = w == 4 ? try fetch32() : signExtend16(try fetch16()) // 0F 80-8F
        case .jcc, .jmpShort, .pushImm8: d.imm = signExtend8(try fetch8())
        case .group1Reg: // only the accumulator forms: group 1 on register 0
            d.imm = try fetchImm(w)
            d.modrm = 0xC0 | UInt8(op & 0x38)
        case .call, .jmpNear, .testAcc, .movImmReg, .pushImm: d.imm = try fetchImm(w)
        case .alu8Acc, .testAcc8, .movImmReg8: d.imm = try fetch8()
        case .ret: if op == 0xC2 { d.imm = try fetch16() }
        default: break
        }
    }

    /// The register-operand forms of the commonest ModRM classes run without `address`,
    /// `readRM` and `writeRM`: both registers come from `modrm`, whose fields the load direction
    /// (8B, 03...3B) swaps, so that r/m always names the destination.
    @inline(__always)
    private func useRegisterForm(_ d: inout DecodedInstruction) {
        let swapped = 0xC0 | (d.modrm & 7) << 3 | (d.modrm >> 3) & 7
        switch d.hot {
        case .movStore: d.hot = .movReg
        case .movLoad: d.hot = .movReg; d.modrm = swapped
        case .aluStore: d.hot = .aluReg
        case .aluLoad: d.hot = .aluReg; d.modrm = swapped
        case .group1: d.hot = .group1Reg
        case .shift where d.opcode & 1 != 0: d.hot = .shiftReg // not 8-bit: the width stays a constant
        case .test: d.hot = .testReg
        default: break
        }
    }

    /// A Jcc (no prefixes) right after `d` in the fetch window joins it as class `fused`: its
    /// condition code goes to `scale`, its displacement to `disp` (a register form uses
    /// neither) and `d`'s own length to `index`, and the pair is dispatched once. `d` has the
    /// code segment's operand size, which is the Jcc's.
    @inline(__always)
    private func fuseJcc(_ d: inout DecodedInstruction, _ fused: HotOpcode) throws(Fault) {
        let s = state
        let at = s.pointee.eip &- s.pointee.fetchLo
        guard at < s.pointee.fetchLen else { return }
        let bytes = s.pointee.fetchPtr.unsafelyUnwrapped + Int(at)
        let near = bytes.load(as: UInt8.self) == 0x0F
        let size: UInt32 = near ? (d.prefixes.opsize32 ? 6 : 4) : 2
        guard s.pointee.fetchLen &- at >= size else { return }
        let op = bytes.load(fromByteOffset: near ? 1 : 0, as: UInt8.self)
        guard op & 0xF0 == (near ? 0x80 : 0x70) else { return }
        d.index = UInt8(truncatingIfNeeded: s.pointee.eip &- s.pointee.startEIP)
        d.scale = op & 0xF
        if near {
            _ = try fetch16()
            d.disp = d.prefixes.opsize32 ? try fetch32() : signExtend16(try fetch16())
        } else {
            _ = try fetch8()
            d.disp = signExtend8(try fetch8())
        }
        d.hot = fused
    }

    /// Runs a decoded instruction: the 32-bit copy of the switch, which sends a 16-bit operand
    /// size to the other (`DecodedInstruction.dispatch`). `left` is the budget before it, which
    /// a fused pair's Jcc takes one from.
    @inline(__always)
    func execute(_ d: UnsafeMutablePointer<DecodedInstruction>, _ left: inout Int) throws(Fault) {
        try execute(d, 4, &left)
    }

    /// LOCK is #UD except on the read-modify-write instructions with a memory destination.
    @inline(never)
    func validateLock(_ op: UInt32) throws(Fault) {
        let csBase = seg[SegReg.cs].base
        var at = state.pointee.eip
        var opcode = op
        if op == 0x0F {
            opcode = 0x100 | (try readLinear(csBase &+ at, 1))
            at &+= 1
        }
        let modrm = try readLinear(csBase &+ at, 1)
        let reg = (modrm >> 3) & 7
        let ok: Bool
        switch opcode {
        case 0x00...0x37: ok = opcode & 6 == 0 && opcode & 0x38 != 0x38 // r/m, r forms of ALU ops but CMP
        case 0x80...0x83: ok = reg != 7
        case 0x86, 0x87: ok = true
        case 0xF6, 0xF7: ok = reg == 2 || reg == 3
        case 0xFE, 0xFF: ok = reg < 2
        case 0x1AB, 0x1B3, 0x1BB, 0x1B0, 0x1B1, 0x1C0, 0x1C1: ok = true
        case 0x1BA: ok = reg >= 5
        case 0x1C7: ok = reg == 1
        default: ok = false
        }
        if !ok || modrm >= 0xC0 { throw Fault.ud }
    }

    /// Two copies of the opcode switch, one per operand size, so that every width-generic
    /// helper below is specialised for a constant width. The 32-bit copy sits inside the run
    /// loop (no call and no reloads of `state`/`gpr` per instruction); 16-bit code calls out.
    /// Returns what the instruction took from `budget` beyond the one the caller counts (the
    /// budget goes by value, so that the run loop's stays in a register).
    @inline(never)
    func execute16(_ d: UnsafeMutablePointer<DecodedInstruction>, _ budget: Int) throws(Fault) -> Int {
        var left = budget
        try execute(d, 2, &left)
        return budget &- left
    }

    /// The switch is over `HotOpcode` classes so that it compiles to one jump table. Operands
    /// come from `d`; `address(d)` puts its memory operand where readRM/writeRM look. Only the
    /// handlers that read prefixes from the state (the rare and two-byte opcodes, far pointers
    /// through readEA) get them there.
    @inline(__always)
    private func execute(_ d: UnsafeMutablePointer<DecodedInstruction>, _ w: Int, _ left: inout Int) throws(Fault) {
        let s = state
        switch w == 4 ? d.pointee.dispatch : d.pointee.hot {
        // These five have a memory operand here (registers took the register forms): its
        // address goes straight to read/write, not through the state readRM/writeRM look at.
        case .movStore:
            try write(Int(d.pointee.eaSeg), effectiveAddress(d.pointee), w, reg(d.pointee.regField, w))
        case .movLoad:
            setReg(d.pointee.regField, w, try read(Int(d.pointee.eaSeg), effectiveAddress(d.pointee), w))
        case .twoByte:
            s.pointee.prefixes = d.pointee.prefixes
            try executeTwoByte()
        case .jcc:
            if condition(d.pointee.op & 0xF) { jumpRelative(d.pointee.imm, w) }
        // The same with the condition named by the case (`dispatch32`): no second switch.
        case .jo: if condition(0) { jumpRelative(d.pointee.imm, w) }
        case .jno: if condition(1) { jumpRelative(d.pointee.imm, w) }
        case .jb: if condition(2) { jumpRelative(d.pointee.imm, w) }
        case .jnb: if condition(3) { jumpRelative(d.pointee.imm, w) }
        case .jz: if condition(4) { jumpRelative(d.pointee.imm, w) }
        case .jnz: if condition(5) { jumpRelative(d.pointee.imm, w) }
        case .jbe: if condition(6) { jumpRelative(d.pointee.imm, w) }
        case .ja: if condition(7) { jumpRelative(d.pointee.imm, w) }
        case .js: if condition(8) { jumpRelative(d.pointee.imm, w) }
        case .jns: if condition(9) { jumpRelative(d.pointee.imm, w) }
        case .jp: if condition(10) { jumpRelative(d.pointee.imm, w) }
        case .jnp: if condition(11) { jumpRelative(d.pointee.imm, w) }
        case .jl: if condition(12) { jumpRelative(d.pointee.imm, w) }
        case .jge: if condition(13) { jumpRelative(d.pointee.imm, w) }
        case .jle: if condition(14) { jumpRelative(d.pointee.imm, w) }
        case .jg: if condition(15) { jumpRelative(d.pointee.imm, w) }
        case .group1:
            let (sg, off) = (Int(d.pointee.eaSeg), effectiveAddress(d.pointee))
            let sub = UInt32(d.pointee.modrm >> 3) & 7
            let r = alu(sub, try read(sg, off, w), d.pointee.imm, w)
            if sub != 7 { try write(sg, off, w, r) }
        case .call:
            try push(s.pointee.eip, w)
            jumpRelative(d.pointee.imm, w)
        case .push:
            try push(reg(Int(d.pointee.op & 7), w), w)
        case .pop:
            let v = try pop(w)
            setReg(Int(d.pointee.op & 7), w, v)
        case .test:
            _ = alu(4, try readOperand(d, w), reg(d.pointee.regField, w), w)
        // ALU r/m,r  r,r/m  acc,imm
        case .aluStore:
            let (sg, off) = (Int(d.pointee.eaSeg), effectiveAddress(d.pointee))
            let r = alu(d.pointee.op >> 3, try read(sg, off, w), reg(d.pointee.regField, w), w)
            if d.pointee.op != 0x39 { try write(sg, off, w, r) }
        case .aluLoad:
            let rg = d.pointee.regField
            let r = alu(d.pointee.op >> 3, reg(rg, w), try read(Int(d.pointee.eaSeg), effectiveAddress(d.pointee), w), w)
            if d.pointee.op != 0x3B { setReg(rg, w, r) }
        case .ret:
            let target = try pop(w)
            adjustSP(Int(d.pointee.imm))
            s.pointee.eip = target
        case .lea:
            if d.pointee.modrm >= 0xC0 { throw Fault.ud }
            setReg(d.pointee.regField, w, effectiveAddress(d.pointee))
        case .groupFF:
            s.pointee.prefixes = d.pointee.prefixes
            address(d.pointee)
            try groupFF(w)
        case .inc:
            let i = Int(d.pointee.op & 7)
            setReg(i, w, incDec(reg(i, w), false, w))
        case .dec:
            let i = Int(d.pointee.op & 7)
            setReg(i, w, incDec(reg(i, w), true, w))
        case .jmpShort, .jmpNear: jumpRelative(d.pointee.imm, w)
        case .movImmRM:
            if d.pointee.regField != 0 { throw Fault.ud }
            try writeOperand(d, w, d.pointee.imm)
        case .movImmReg: setReg(Int(d.pointee.op & 7), w, d.pointee.imm)
        case .movStore8:
            try writeOperand(d, 1, reg(d.pointee.regField, 1))
        case .movLoad8:
            setReg8(d.pointee.regField, try readOperand(d, 1))
        case .shift:
            let width = d.pointee.op & 1 == 0 ? 1 : w
            address(d.pointee)
            let sub = UInt32(regField)
            let v = try readRM(width)
            try writeRM(width, shift(sub, v, shiftCount(d), width))
        case .group3:
            let width = d.pointee.op == 0xF6 ? 1 : w
            address(d.pointee)
            let sub = UInt32(regField)
            let v = try readRM(width)
            switch sub {
            case 0, 1: _ = alu(4, v, d.pointee.imm, width)
            case 2: try writeRM(width, ~v & Interpreter.mask(width))
            case 3:
                let r = alu(5, 0, v, width)
                try writeRM(width, r)
            default: try mulDiv(sub, v, width)
            }
        case .alu8Store:
            address(d.pointee)
            let r = alu(d.pointee.op >> 3, try readRM(1), reg(regField, 1), 1)
            if d.pointee.op != 0x38 { try writeRM(1, r) }
        case .alu8Load:
            let rg = d.pointee.regField
            let r = alu(d.pointee.op >> 3, reg(rg, 1), try readOperand(d, 1), 1)
            if d.pointee.op != 0x3A { setReg8(rg, r) }
        case .alu8Acc:
            let r = alu(d.pointee.op >> 3, gpr[0] & 0xFF, d.pointee.imm, 1)
            if d.pointee.op != 0x3C { setReg8(0, r) }
        case .group1Byte:
            address(d.pointee)
            let sub = UInt32(regField)
            let r = alu(sub, try readRM(1), d.pointee.imm, 1)
            if sub != 7 { try writeRM(1, r) }
        case .test8:
            _ = alu(4, try readOperand(d, 1), reg(d.pointee.regField, 1), 1)
        case .movImm8RM:
            if d.pointee.regField != 0 { throw Fault.ud }
            try writeOperand(d, 1, d.pointee.imm)
        case .pushImm, .pushImm8: try push(d.pointee.imm, w)
        case .imul:
            setReg(d.pointee.regField, w, imul(try readOperand(d, w), d.pointee.imm, w))
        case .xchg8:
            address(d.pointee)
            let a = try readRM(1)
            try writeRM(1, reg(regField, 1))
            setReg8(regField, a)
        case .xchg:
            address(d.pointee)
            let a = try readRM(w)
            try writeRM(w, reg(regField, w))
            setReg(regField, w, a)
        case .nop:
            if d.pointee.prefixes.rep == 0xF3 { stopRequested.store(true, ordering: .relaxed) } // PAUSE: a look at the stop flag
        case .testAcc8: _ = alu(4, gpr[0] & 0xFF, d.pointee.imm, 1)
        case .testAcc: _ = alu(4, reg(0, w), d.pointee.imm, w)
        case .movImmReg8: setReg8(Int(d.pointee.op & 7), d.pointee.imm)
        case .leave:
            let bp = s.pointee.stack32 ? gpr[5] : gpr[5] & 0xFFFF
            let v = try read(SegReg.ss, bp, w)
            if s.pointee.stack32 { gpr[4] = bp &+ UInt32(w) } else { setReg16(4, bp &+ UInt32(w)) }
            setReg(5, w, v)
        case .groupFE:
            address(d.pointee)
            switch regField {
            case 0: try writeRM(1, incDec(try readRM(1), false, 1))
            case 1: try writeRM(1, incDec(try readRM(1), true, 1))
            default: throw Fault.ud
            }
        case .movReg:
            let m = Int(d.pointee.modrm)
            setReg(m & 7, w, reg((m >> 3) & 7, w))
        case .aluReg: aluRegister(d, (d.pointee.op >> 3) & 7, w)
        case .group1Reg: aluImmediate(d, UInt32(d.pointee.modrm >> 3) & 7, w)
        // The same with the operation named by the case (`dispatch32`): no second switch.
        case .addReg: aluRegister(d, 0, w)
        case .orReg: aluRegister(d, 1, w)
        case .adcReg: aluRegister(d, 2, w)
        case .sbbReg: aluRegister(d, 3, w)
        case .andReg: aluRegister(d, 4, w)
        case .subReg: aluRegister(d, 5, w)
        case .xorReg: aluRegister(d, 6, w)
        case .cmpReg: aluRegister(d, 7, w)
        case .addImm: aluImmediate(d, 0, w)
        case .orImm: aluImmediate(d, 1, w)
        case .adcImm: aluImmediate(d, 2, w)
        case .sbbImm: aluImmediate(d, 3, w)
        case .andImm: aluImmediate(d, 4, w)
        case .subImm: aluImmediate(d, 5, w)
        case .xorImm: aluImmediate(d, 6, w)
        case .cmpImm: aluImmediate(d, 7, w)
        case .shiftReg: shiftRegister(d, UInt32(d.pointee.modrm >> 3) & 7, shiftCount(d), w)
        // The same by an immediate count with the operation named by the case (`dispatch32`):
        // no second switch, and no look at the opcode for the count.
        case .rolReg: shiftRegister(d, 0, d.pointee.imm, w)
        case .rorReg: shiftRegister(d, 1, d.pointee.imm, w)
        case .rclReg: shiftRegister(d, 2, d.pointee.imm, w)
        case .rcrReg: shiftRegister(d, 3, d.pointee.imm, w)
        case .shlReg: shiftRegister(d, 4, d.pointee.imm, w)
        case .shrReg: shiftRegister(d, 5, d.pointee.imm, w)
        case .salReg: shiftRegister(d, 6, d.pointee.imm, w)
        case .sarReg: shiftRegister(d, 7, d.pointee.imm, w)
        case .testReg:
            let m = Int(d.pointee.modrm)
            _ = alu(4, reg(m & 7, w), reg((m >> 3) & 7, w), w)
        case .incDecJcc:
            let i = Int(d.pointee.op & 7)
            setReg(i, w, incDec(reg(i, w), d.pointee.op & 8 != 0, w))
            fusedJcc(d, w, &left)
        case .aluRegJcc:
            aluRegister(d, (d.pointee.op >> 3) & 7, w)
            fusedJcc(d, w, &left)
        case .group1RegJcc:
            aluImmediate(d, UInt32(d.pointee.modrm >> 3) & 7, w)
            fusedJcc(d, w, &left)
        case .testRegJcc:
            let m = Int(d.pointee.modrm)
            _ = alu(4, reg(m & 7, w), reg((m >> 3) & 7, w), w)
            fusedJcc(d, w, &left)
        case .movx8:
            let v = try readOperand(d, 1)
            setReg(d.pointee.regField, w, d.pointee.op == 0xBE ? signExtend8(v) : v)
        case .movx16:
            let v = try readOperand(d, 2)
            setReg(d.pointee.regField, w, d.pointee.op == 0xBF ? signExtend16(v) : v)
        case .setcc:
            try writeOperand(d, 1, condition(d.pointee.op & 0xF) ? 1 : 0)
        case .cmov:
            let v = try readOperand(d, w) // read (and fault) whatever the condition
            if condition(d.pointee.op & 0xF) { setReg(d.pointee.regField, w, v) }
        case .imulRM:
            let rg = d.pointee.regField
            setReg(rg, w, imul(reg(rg, w), try readOperand(d, w), w))
        case .operand16: // only in the 32-bit copy
            left &-= try execute16(d, left)
        case .rare, .prefix: // every class named, so the jump table needs no range check
            s.pointee.prefixes = d.pointee.prefixes
            try executeRare(d.pointee.op)
        }
    }

    /// ALU r/m, r with a register r/m, the destination (CMP writes nothing back).
    @_transparent
    func aluRegister(_ d: UnsafeMutablePointer<DecodedInstruction>, _ sub: UInt32, _ w: Int) {
        let m = Int(d.pointee.modrm)
        let r = alu(sub, reg(m & 7, w), reg((m >> 3) & 7, w), w)
        if sub != 7 { setReg(m & 7, w, r) }
    }

    /// Group 2 (shifts and rotates, `sub` the ModRM reg field) on a register.
    @_transparent
    func shiftRegister(_ d: UnsafeMutablePointer<DecodedInstruction>, _ sub: UInt32, _ count: UInt32, _ w: Int) {
        let i = Int(d.pointee.modrm & 7)
        setReg(i, w, shift(sub, reg(i, w), count, w))
    }

    /// Group 1 (and the accumulator forms) on a register.
    @_transparent
    func aluImmediate(_ d: UnsafeMutablePointer<DecodedInstruction>, _ sub: UInt32, _ w: Int) {
        let m = Int(d.pointee.modrm)
        let r = alu(sub, reg(m & 7, w), d.pointee.imm, w)
        if sub != 7 { setReg(m & 7, w, r) }
    }

    /// The Jcc of a fused pair, its first instruction run: it takes one more from the budget,
    /// unless the budget is down to that first instruction, which leaves EIP at the Jcc to run
    /// on its own (also when the run loop must look between the two, as it then runs blocks of
    /// one: single-step, breakpoints, an interrupt shadow ending).
    @_transparent
    func fusedJcc(_ d: UnsafeMutablePointer<DecodedInstruction>, _ w: Int, _ left: inout Int) {
        let s = state
        if _slowPath(left < 2) {
            s.pointee.eip = s.pointee.startEIP &+ UInt32(d.pointee.index)
            return
        }
        left &-= 1
        if condition(UInt32(d.pointee.scale)) { jumpRelative(d.pointee.disp, w) }
    }

    /// The count of a group 2 shift or rotate: CL for D2 and D3, else the decoded immediate
    /// (C0 and C1's, already masked, or 1).
    @inline(__always)
    private func shiftCount(_ d: UnsafeMutablePointer<DecodedInstruction>) -> UInt32 {
        d.pointee.opcode >= 0xD2 ? gpr[1] & 31 : d.pointee.imm
    }

    /// The less frequent one-byte opcodes, out of the hot switch so that the hot one stays small
    /// enough for the compiler to inline its helpers; two copies per operand size again.
    @inline(never)
    func executeRare(_ op: UInt32) throws(Fault) {
        if state.pointee.opsize32 { try executeRare(op, 4) } else { try executeRare(op, 2) }
    }

    @inline(__always)
    private func executeRare(_ op: UInt32, _ w: Int) throws(Fault) {
        let s = state
        switch op {
        case 0x06, 0x0E, 0x16, 0x1E:
            try push(UInt32(seg[Int(op >> 3)].selector), w)
        case 0x07, 0x17, 0x1F: try popSegment(Int(op >> 3), w)
        case 0x27: daa(subtract: false)
        case 0x2F: daa(subtract: true)
        case 0x37: aaa(subtract: false)
        case 0x3F: aaa(subtract: true)
        case 0x60: // PUSHA
            let sp = reg(4, w)
            for i in 0..<8 { try push(i == 4 ? sp : reg(i, w), w) }
        case 0x61: // POPA
            for i in (0..<8).reversed() {
                let v = try peek((7 - i) * w, w)
                if i != 4 { setReg(i, w, v) }
            }
            adjustSP(8 * w)
        case 0x62: // BOUND
            try decodeModRM()
            if rmIsReg { throw Fault.ud }
            let idx = reg(regField, w)
            let lo = try readEA(0, w)
            let hi = try readEA(UInt32(w), w)
            let (i, l, h) = w == 2
                ? (Int32(Int16(truncatingIfNeeded: idx)), Int32(Int16(truncatingIfNeeded: lo)), Int32(Int16(truncatingIfNeeded: hi)))
                : (Int32(bitPattern: idx), Int32(bitPattern: lo), Int32(bitPattern: hi))
            if i < l || i > h { throw Fault(vector: 5) }
        case 0x63: try arpl()
        case 0x6C: try stringIO(input: true, 1)
        case 0x6D: try stringIO(input: true, w)
        case 0x6E: try stringIO(input: false, 1)
        case 0x6F: try stringIO(input: false, w)
        case 0x8C:
            try decodeModRM()
            if regField > 5 { throw Fault.ud }
            let v = UInt32(seg[regField].selector)
            try writeRM(rmIsReg ? w : 2, v)
        case 0x8E:
            try decodeModRM()
            let r = regField
            if r == SegReg.cs || r > 5 { throw Fault.ud }
            try loadSegment(r, UInt16(truncatingIfNeeded: try readRM(2)))
        case 0x8F:
            // The address uses ESP after the pop.
            let v = try peek(0, w)
            adjustSP(w)
            do throws(Fault) {
                try decodeModRM()
                if regField != 0 { throw Fault.ud }
                try writeRM(w, v)
            } catch {
                adjustSP(-w)
                throw error
            }
        case 0x91...0x97:
            let i = Int(op & 7)
            let a = reg(i, w)
            setReg(i, w, reg(0, w))
            setReg(0, w, a)
        case 0x98:
            if w == 2 { setReg16(0, signExtend8(gpr[0])) } else { gpr[0] = signExtend16(gpr[0]) }
        case 0x99:
            if w == 2 {
                setReg16(2, gpr[0] & 0x8000 != 0 ? 0xFFFF : 0)
            } else {
                gpr[2] = gpr[0] & 0x8000_0000 != 0 ? 0xFFFF_FFFF : 0
            }
        case 0x9A:
            let off = try fetchImm(w)
            let sel = try fetch16()
            try farCall(UInt16(sel), off, w)
        case 0x9B: // WAIT: #NM with CR0.MP and TS, then any pending x87 exception
            if s.pointee.cr0 & 0xA == 0xA { throw Fault(vector: 7) }
            _ = try fpuReady()
        case 0x9C: try pushFlags(w)
        case 0x9D: try popFlags(w)
        case 0x9E: // SAHF
            let f = flagsValue()
            setArith((f & Flag.OF) | ((gpr[0] >> 8) & (Flag.CF | Flag.PF | Flag.AF | Flag.ZF | Flag.SF)))
        case 0x9F: // LAHF
            let f = (flagsValue() & 0xD5) | 0x02
            setReg8(4, f)
        case 0xA0...0xA3:
            let off = s.pointee.addrsize32 ? try fetch32() : try fetch16()
            let width = op & 1 == 0 ? 1 : w
            if op < 0xA2 {
                setReg(0, width, try read(dataSeg, off, width))
            } else {
                try write(dataSeg, off, width, reg(0, width))
            }
        case 0xA4: try movs(1)
        case 0xA5: try movs(w)
        case 0xA6: try cmps(1)
        case 0xA7: try cmps(w)
        case 0xAA: try stos(1)
        case 0xAB: try stos(w)
        case 0xAC: try lods(1)
        case 0xAD: try lods(w)
        case 0xAE: try scas(1)
        case 0xAF: try scas(w)
        case 0xC4, 0xC5:
            try decodeModRM()
            if rmIsReg { throw Fault.ud }
            let off = try readEA(0, w)
            let sel = try readEA(UInt32(w), 2)
            try loadSegment(op == 0xC4 ? SegReg.es : SegReg.ds, UInt16(sel))
            setReg(regField, w, off)
        case 0xC8: try enter(w)
        case 0xCA, 0xCB:
            let n = op == 0xCA ? try fetch16() : 0
            try farReturn(w, n)
        case 0xCC: throw Fault(vector: 3, kind: .software)
        case 0xCD: throw Fault(vector: UInt8(try fetch8()), kind: .software)
        case 0xCE: if of() { throw Fault(vector: 4, kind: .software) }
        case 0xCF: try iret(w)
        case 0xD4: try aam(try fetch8())
        case 0xD5: aad(try fetch8())
        case 0xD6: setReg8(0, cf() ? 0xFF : 0)
        case 0xD7:
            let off = (s.pointee.addrsize32 ? gpr[3] : gpr[3] & 0xFFFF) &+ (gpr[0] & 0xFF)
            setReg8(0, try read(dataSeg, s.pointee.addrsize32 ? off : off & 0xFFFF, 1))
        case 0xD8...0xDF: try executeFPU(op)
        case 0xE0, 0xE1, 0xE2:
            let d = signExtend8(try fetch8())
            let count: UInt32
            if s.pointee.addrsize32 { gpr[1] &-= 1; count = gpr[1] } else { setReg16(1, gpr[1] &- 1); count = gpr[1] & 0xFFFF }
            let take = count != 0 && (op == 0xE2 || (op == 0xE1) == zf())
            if take { jumpRelative(d, w) }
        case 0xE3:
            let d = signExtend8(try fetch8())
            let count = s.pointee.addrsize32 ? gpr[1] : gpr[1] & 0xFFFF
            if count == 0 { jumpRelative(d, w) }
        case 0xE4, 0xE5:
            let port = UInt16(try fetch8())
            try portIn(port, op == 0xE4 ? 1 : w)
        case 0xE6, 0xE7:
            let port = UInt16(try fetch8())
            try portOut(port, op == 0xE6 ? 1 : w)
        case 0xEC, 0xED: try portIn(UInt16(truncatingIfNeeded: gpr[2]), op == 0xEC ? 1 : w)
        case 0xEE, 0xEF: try portOut(UInt16(truncatingIfNeeded: gpr[2]), op == 0xEE ? 1 : w)
        case 0xEA:
            let off = try fetchImm(w)
            let sel = try fetch16()
            try farJump(UInt16(sel), off)
        case 0xF1: throw Fault(vector: 1, kind: .trap)
        case 0xF4:
            if s.pointee.protected && s.pointee.cpl != 0 { throw Fault.gp() }
            s.pointee.halted = true
            stopRequested.store(true, ordering: .relaxed)
        case 0xF5: setFlag(Flag.CF, !cf())
        case 0xF8: setFlag(Flag.CF, false)
        case 0xF9: setFlag(Flag.CF, true)
        case 0xFA:
            try checkIOPL()
            s.pointee.flags &= ~Flag.IF
        case 0xFB:
            try checkIOPL()
            if s.pointee.flags & Flag.IF == 0 {
                s.pointee.flags |= Flag.IF
                s.pointee.interruptShadow = true
                s.pointee.irqCheck = true
            }
        case 0xFC: s.pointee.flags &= ~Flag.DF
        case 0xFD: s.pointee.flags |= Flag.DF
        default:
            throw Fault.ud
        }
    }

    /// POP to a segment register: ESP moves with the old stack size (POP SS may change it) and
    /// stays put if the load faults.
    func popSegment(_ sg: Int, _ w: Int) throws(Fault) {
        let v = try peek(0, w)
        let oldESP = gpr[4]
        adjustSP(w)
        do throws(Fault) {
            try loadSegment(sg, UInt16(truncatingIfNeeded: v))
        } catch {
            gpr[4] = oldESP
            throw error
        }
    }

    /// Near jump by a displacement; the result is truncated to the operand size `w`.
    @inline(__always)
    func jumpRelative(_ d: UInt32, _ w: Int) {
        let s = state
        let t = s.pointee.eip &+ d
        s.pointee.eip = w == 4 ? t : t & 0xFFFF
    }

    /// Group FF, its ModRM operand already decoded.
    func groupFF(_ w: Int) throws(Fault) {
        let s = state
        switch regField {
        case 0: try writeRM(w, incDec(try readRM(w), false, w))
        case 1: try writeRM(w, incDec(try readRM(w), true, w))
        case 2:
            let t = try readRM(w)
            try push(s.pointee.eip, w)
            s.pointee.eip = t
        case 3, 5:
            if rmIsReg { throw Fault.ud }
            let off = try readEA(0, w)
            let sel = UInt16(try readEA(UInt32(w), 2))
            if regField == 3 { try farCall(sel, off, w) } else { try farJump(sel, off) }
        case 4: s.pointee.eip = try readRM(w)
        case 6: try push(try readRM(w), w)
        default: throw Fault.ud
        }
    }

    func enter(_ w: Int) throws(Fault) {
        let s = state
        let size = try fetch16()
        let level = try fetch8() & 31
        let bp = reg(5, s.pointee.stack32 ? 4 : 2)
        let savedESP = gpr[4]
        do {
            try push(reg(5, w), w)
            let frame = gpr[4] // EBP takes all of ESP with a 32-bit operand, even on a 16-bit stack
            if level > 0 {
                var p = bp
                for _ in 1..<level {
                    p &-= UInt32(w)
                    let v = try read(SegReg.ss, s.pointee.stack32 ? p : p & 0xFFFF, w)
                    try push(v, w)
                }
                try push(frame, w)
            }
            // The frame is allocated below everything pushed, the nesting pointers included,
            // and must be writable: the CPU probes it (a #PF there comes from ENTER).
            let top = s.pointee.stack32 ? gpr[4] &- size : (gpr[4] &- size) & 0xFFFF
            _ = try translate(try linear(SegReg.ss, top, w), write: true)
            setReg(5, w, frame)
            if s.pointee.stack32 { gpr[4] = top } else { setReg16(4, top) }
        } catch {
            gpr[4] = savedESP // ENTER restarts after a fault
            throw error
        }
    }

    // MARK: Flags register

    func pushFlags(_ w: Int) throws(Fault) {
        let s = state
        if s.pointee.vm86 && (s.pointee.flags & Flag.IOPL) != Flag.IOPL { throw Fault.gp() }
        let f = flagsValue() & ~(Flag.VM | Flag.RF)
        try push(f, w)
    }

    func popFlags(_ w: Int) throws(Fault) {
        let s = state
        if s.pointee.vm86 && (s.pointee.flags & Flag.IOPL) != Flag.IOPL { throw Fault.gp() }
        let v = try pop(w)
        var writable: UInt32 = Flag.arith | Flag.TF | Flag.DF | Flag.NT | Flag.AC | Flag.ID
        if s.pointee.cpl == 0 || !s.pointee.protected { writable |= Flag.IOPL }
        if !s.pointee.protected || s.pointee.cpl <= Int((s.pointee.flags >> 12) & 3) { writable |= Flag.IF }
        if w == 2 { writable &= 0xFFFF }
        writeFlags(v, writable)
    }

    /// Replaces the `writable` bits of EFLAGS with those of `v`.
    func writeFlags(_ v: UInt32, _ writable: UInt32) {
        let s = state
        let old = flagsValue()
        s.pointee.flags = (old & ~writable) | (v & writable) | 0x2
        s.pointee.lazyOp = LazyOp.none
        if (old ^ s.pointee.flags) & (Flag.IF | Flag.VM | Flag.AC) != 0 {
            s.pointee.irqCheck = true
            updateModes()
        }
        if s.pointee.flags & (Flag.TF | Flag.RF) != 0 { s.pointee.irqCheck = true } // debug traps
    }

    func checkIOPL() throws(Fault) {
        let s = state
        if s.pointee.protected && s.pointee.cpl > Int((s.pointee.flags >> 12) & 3) { throw Fault.gp() }
    }

    // MARK: Port I/O

    func portIn(_ port: UInt16, _ w: Int) throws(Fault) {
        try checkPortAccess(port, w)
        setReg(0, w, ports.read(port, width: w))
        state.pointee.irqCheck = true
    }

    func portOut(_ port: UInt16, _ w: Int) throws(Fault) {
        try checkPortAccess(port, w)
        ports.write(port, width: w, value: reg(0, w))
        state.pointee.irqCheck = true
        syncMappings()
    }
}
