/// What its prefixes say about an instruction, in one 32-bit word, so that the decoded form
/// hands them to `CPUState` in one load and one store (four Bool/byte fields were copied byte by
/// byte: 7 host instructions per guest instruction).
struct InstructionPrefixes {
    /// Bit 0 opsize32, bit 8 addrsize32, bits 16-23 rep, bits 24-31 segOverride.
    private var bits: UInt32 = 0xFF00_0000

    var opsize32: Bool {
        @inline(__always) get { bits & 1 != 0 }
        @inline(__always) set { bits = (bits & ~1) | (newValue ? 1 : 0) }
    }

    var addrsize32: Bool {
        @inline(__always) get { bits & 0x100 != 0 }
        @inline(__always) set { bits = (bits & ~0x100) | (newValue ? 0x100 : 0) }
    }

    /// 0, 0xF2 (REPNE) or 0xF3 (REP/REPE).
    var rep: UInt8 {
        @inline(__always) get { UInt8(truncatingIfNeeded: bits >> 16) }
        @inline(__always) set { bits = (bits & ~0xFF_0000) | UInt32(newValue) << 16 }
    }

    /// Segment override (SegReg index) or -1.
    var segOverride: Int8 {
        @inline(__always) get { Int8(truncatingIfNeeded: bits >> 24) }
        @inline(__always) set { bits = (bits & 0xFF_FFFF) | UInt32(UInt8(bitPattern: newValue)) << 24 }
    }
}
