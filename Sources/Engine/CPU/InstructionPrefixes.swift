/// What its prefixes say about an instruction: four bytes, so that the decoded form hands them
/// to `CPUState` in one copy.
struct InstructionPrefixes {
    var opsize32 = false
    var addrsize32 = false
    /// 0, 0xF2 (REPNE) or 0xF3 (REP/REPE).
    var rep: UInt8 = 0
    /// Segment override (SegReg index) or -1.
    var segOverride: Int8 = -1
}
