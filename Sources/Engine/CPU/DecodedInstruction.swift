/// One instruction as the decoder leaves it: prefixes, opcode, the memory operand's address
/// form and the immediate, so that running it again reads no guest bytes (`DecodeCache`).
///
/// The effective address is `gpr[base] + gpr[index] << scale + disp`, masked to 16 bits for a
/// 16-bit address size; register 8 is the zero register, so every 16- and 32-bit form (SIB,
/// disp32 alone, [BX+SI]...) is one sum with no branches. Opcodes outside the hot set
/// (`HotOpcode.rare`, `.twoByte`) keep only their prefixes and opcode (0F for two-byte ones),
/// and their handlers fetch the rest as they go; a hot two-byte opcode keeps its second byte.
///
/// 64-bit guests extend this form instead of replacing it: REX.R/X/B widen `base`, `index` and
/// the ModRM fields to four bits (16 registers, the zero register moving to 16), REX.W is one
/// more operand-size state beside `prefixes.opsize32`, RIP-relative addressing is a `base` naming a
/// pseudo-register that holds the next RIP, `disp` is sign-extended to 64 bits and MOV r64,
/// imm64 keeps its upper half in a second immediate word (the struct has room within its 32
/// bytes); the tag's mode bits then name long mode as well as `code32`.
struct DecodedInstruction {
    /// The physical address of the first byte with the decoding mode above bit 32
    /// (`DecodeCache.key`); `DecodeCache.empty` in an unused slot.
    var tag: UInt64 = DecodeCache.empty
    var disp: UInt32 = 0
    /// The immediate as the handler uses it: zero-extended, or sign-extended where the opcode
    /// sign-extends an 8-bit one (Jcc, 0x83, PUSH imm8...); the count of C0/C1.
    var imm: UInt32 = 0
    var opcode: UInt8 = 0
    var hot: HotOpcode = .rare
    /// Bytes decoded: the whole instruction for hot opcodes, prefixes and opcode otherwise.
    var length: UInt8 = 0
    var modrm: UInt8 = 0
    var base: UInt8 = DecodedInstruction.none
    var index: UInt8 = DecodedInstruction.none
    var scale: UInt8 = 0
    /// The memory operand's segment, the override applied.
    var eaSeg: Int8 = 0
    var prefixes = InstructionPrefixes()
    /// The case the run loop's (32-bit) copy of the hot switch takes: `hot`, or `operand16` for
    /// a 16-bit operand size, whose copy then switches on `hot`. One load picks both the
    /// operand size and the handler.
    var dispatch: HotOpcode = .rare
    /// Non-zero when this instruction is linked to the next: the one after it (the slot
    /// `length` on, this many bytes on) was cached from the next bytes of the same page and
    /// found in a fetch window when this one last ran, so `runBlock` steps to it by this byte
    /// count without looking at the window (`DecodeCache` zeroes it whenever that slot may no
    /// longer hold it).
    var linkStride: UInt16 = 0

    /// The zero register's index in the interpreter's `gpr`.
    static let none: UInt8 = 8

    /// The opcode as the handlers compute with it. The hot switch reads it in the cases that
    /// use it: one load above the switch was copied into the register each case wanted, three
    /// moves on every dispatch.
    var op: UInt32 {
        @inline(__always) get { UInt32(opcode) }
    }

    /// The ModRM reg field: a register, or group's operation.
    var regField: Int {
        @inline(__always) get { Int(modrm >> 3) & 7 }
    }

    /// `linkStride` for a link to the instruction right after this one.
    var strideToNext: UInt16 { UInt16(length) &* UInt16(MemoryLayout<DecodedInstruction>.stride) }
}
