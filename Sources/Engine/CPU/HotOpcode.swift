/// The one-byte opcodes the interpreter's hot switch handles, as a dense index: a switch over
/// these compiles to one jump table, where a switch over the opcode bytes compiled to a chain
/// of compares (17 host instructions per guest instruction on the benchmark guest).
/// `rare` goes to the second switch; `prefix` marks the prefix bytes.
enum HotOpcode: UInt8 {
    case rare, prefix, twoByte, nop
    case jcc, call, ret, jmpShort, jmpNear
    // A flag-setting register instruction and the Jcc right after it, decoded as one
    // (`Interpreter.fuseJcc`): INC/DEC r, ALU r/m,r, group 1 and the accumulator forms, TEST.
    case incDecJcc, aluRegJcc, group1RegJcc, testRegJcc
    case groupFF
    case movStore
    case movLoad
    case group1
    case push
    case pop
    case test
    case aluStore
    case aluLoad
    case lea
    case inc
    case dec
    case movImmRM
    case movImmReg
    case movStore8
    case movLoad8
    case shift
    case group3
    case alu8Store
    case alu8Load
    case alu8Acc
    case group1Byte
    case test8
    case movImm8RM
    case pushImm
    case pushImm8
    case imul
    case xchg8
    case xchg
    case testAcc8
    case testAcc
    case movImmReg8
    case leave
    case groupFE
    // Register-operand forms, chosen at decode time (`Interpreter.useRegisterForm`); r/m names
    // the destination, reg the source. The accumulator forms of the ALU ops (05, 0D... 3D) are
    // group 1 on register 0 from the start (`Interpreter.decodeOperands` gives them the ModRM byte).
    case movReg
    case aluReg
    case group1Reg
    case shiftReg
    case testReg
    // Two-byte opcodes (0F xx) decoded like the one-byte ones, through `twoByteTable`; their
    // `opcode` is the second byte. Near Jcc (0F 80-8F) is `jcc`.
    case movx8   // MOVZX/MOVSX r, r/m8 (0F B6, 0F BE)
    case movx16  // MOVZX/MOVSX r, r/m16 (0F B7, 0F BF)
    case setcc
    case cmov
    case imulRM  // IMUL r, r/m (0F AF)
    /// Only in `DecodedInstruction.dispatch`: a 16-bit operand size.
    case operand16
    // Only in `DecodedInstruction.dispatch` (32-bit operand size): `aluReg` and `group1Reg`
    // with their operation (ADD OR ADC SBB AND SUB XOR CMP, in selector order).
    case addReg, orReg, adcReg, sbbReg, andReg, subReg, xorReg, cmpReg
    case addImm, orImm, adcImm, sbbImm, andImm, subImm, xorImm, cmpImm
    // Only in `DecodedInstruction.dispatch` (32-bit operand size): `jcc` with its condition
    // (in condition-code order). They do not end blocks by class (`hot` stays `jcc`).
    case jo, jno, jb, jnb, jz, jnz, jbe, ja, js, jns, jp, jnp, jl, jge, jle, jg
    // Only in `DecodedInstruction.dispatch` (32-bit operand size): `shiftReg` by an immediate
    // count (C1, D1) with its operation (in ModRM reg order).
    case rolReg, rorReg, rclReg, rcrReg, shlReg, shrReg, salReg, sarReg

    /// The classes after which `Interpreter.runBlock` goes back to the run loop: the branches
    /// (so that a block is straight-line code and the loop's stop flag is read at least once
    /// per page of it), the rare and two-byte opcodes (mode, CS and interrupt-flag changes, HLT,
    /// port I/O, x87 waits) and NOP (PAUSE raises the stop flag).
    @inline(__always)
    var endsBlock: Bool { rawValue <= HotOpcode.groupFF.rawValue }

    /// Jcc, CALL, RET and JMP within the code segment, and the fused pairs: they end blocks,
    /// but `Interpreter.runBlock` may go on at their target.
    @inline(__always)
    var isNearBranch: Bool { rawValue &- HotOpcode.jcc.rawValue <= HotOpcode.testRegJcc.rawValue &- HotOpcode.jcc.rawValue }

    /// This class fused with a Jcc after it (`Interpreter.fuseJcc`), or nil.
    var withJcc: HotOpcode? {
        switch self {
        case .inc, .dec: .incDecJcc
        case .aluReg: .aluRegJcc
        case .group1Reg: .group1RegJcc
        case .testReg: .testRegJcc
        default: nil
        }
    }

    /// Opcode byte -> class, built once, read-only after, shared by every interpreter (never freed).
    nonisolated(unsafe) static let table: UnsafeMutablePointer<HotOpcode> = {
        let t = UnsafeMutablePointer<HotOpcode>.allocate(capacity: 256)
        t.initialize(repeating: .rare, count: 256)
        for op in [0x26, 0x2E, 0x36, 0x3E, 0x64, 0x65, 0x66, 0x67, 0xF0, 0xF2, 0xF3] { t[op] = .prefix }
        t[0x89] = .movStore
        t[0x8B] = .movLoad
        t[0x0F] = .twoByte
        for op in 0x70...0x7F { t[op] = .jcc }
        for op in [0x81, 0x83] { t[op] = .group1 }
        t[0xE8] = .call
        for op in 0x50...0x57 { t[op] = .push }
        for op in 0x58...0x5F { t[op] = .pop }
        t[0x85] = .test
        for op in [0x01, 0x09, 0x11, 0x19, 0x21, 0x29, 0x31, 0x39] { t[op] = .aluStore }
        for op in [0x03, 0x0B, 0x13, 0x1B, 0x23, 0x2B, 0x33, 0x3B] { t[op] = .aluLoad }
        for op in 0xC2...0xC3 { t[op] = .ret }
        t[0x8D] = .lea
        t[0xFF] = .groupFF
        for op in 0x40...0x47 { t[op] = .inc }
        for op in 0x48...0x4F { t[op] = .dec }
        t[0xEB] = .jmpShort
        t[0xE9] = .jmpNear
        t[0xC7] = .movImmRM
        for op in 0xB8...0xBF { t[op] = .movImmReg }
        t[0x88] = .movStore8
        t[0x8A] = .movLoad8
        for op in [0xC0, 0xC1, 0xD0, 0xD1, 0xD2, 0xD3] { t[op] = .shift }
        for op in 0xF6...0xF7 { t[op] = .group3 }
        for op in [0x05, 0x0D, 0x15, 0x1D, 0x25, 0x2D, 0x35, 0x3D] { t[op] = .group1Reg }
        for op in [0x00, 0x08, 0x10, 0x18, 0x20, 0x28, 0x30, 0x38] { t[op] = .alu8Store }
        for op in [0x02, 0x0A, 0x12, 0x1A, 0x22, 0x2A, 0x32, 0x3A] { t[op] = .alu8Load }
        for op in [0x04, 0x0C, 0x14, 0x1C, 0x24, 0x2C, 0x34, 0x3C] { t[op] = .alu8Acc }
        for op in [0x80, 0x82] { t[op] = .group1Byte }
        t[0x84] = .test8
        t[0xC6] = .movImm8RM
        t[0x68] = .pushImm
        t[0x6A] = .pushImm8
        for op in [0x69, 0x6B] { t[op] = .imul }
        t[0x86] = .xchg8
        t[0x87] = .xchg
        t[0x90] = .nop
        t[0xA8] = .testAcc8
        t[0xA9] = .testAcc
        for op in 0xB0...0xB7 { t[op] = .movImmReg8 }
        t[0xC9] = .leave
        t[0xFE] = .groupFE
        return t
    }()

    /// Second byte of a two-byte opcode -> class; `twoByte` for those `executeTwoByte` runs.
    nonisolated(unsafe) static let twoByteTable: UnsafeMutablePointer<HotOpcode> = {
        let t = UnsafeMutablePointer<HotOpcode>.allocate(capacity: 256)
        t.initialize(repeating: .twoByte, count: 256)
        for op in 0x80...0x8F { t[op] = .jcc }
        for op in 0x90...0x9F { t[op] = .setcc }
        for op in 0x40...0x4F { t[op] = .cmov }
        for op in [0xB6, 0xBE] { t[op] = .movx8 }
        for op in [0xB7, 0xBF] { t[op] = .movx16 }
        t[0xAF] = .imulRM
        return t
    }()
}
