/// The interpreter's hot scalar state, held behind one pointer so the hot loop reads and
/// writes plain memory (no exclusivity checks on class properties).
struct CPUState {
    var eip: UInt32 = 0
    /// EFLAGS; the six arithmetic flags are stale while `lazyOp` is not `LazyOp.none`.
    var flags: UInt32 = 0x2
    var lazyOp: UInt32 = LazyOp.none
    var lazyRes: UInt32 = 0
    var lazyDst: UInt32 = 0
    var lazySrc: UInt32 = 0
    var lazyWidth: Int = 1

    // Decoder state of the instruction being executed.
    var startEIP: UInt32 = 0
    /// Set only for the handlers that read them here (`Interpreter.execute`); the hot ones
    /// read the decoded instruction's.
    var prefixes = InstructionPrefixes()
    var opsize32: Bool {
        get { prefixes.opsize32 }
        set { prefixes.opsize32 = newValue }
    }
    var addrsize32: Bool {
        get { prefixes.addrsize32 }
        set { prefixes.addrsize32 = newValue }
    }
    /// Segment override (SegReg index) or -1.
    var segOverride: Int {
        get { Int(prefixes.segOverride) }
        set { prefixes.segOverride = Int8(newValue) }
    }
    /// 0, 0xF2 (REPNE) or 0xF3 (REP/REPE).
    var rep: UInt8 {
        get { prefixes.rep }
        set { prefixes.rep = newValue }
    }
    var modrm: UInt32 = 0
    var eaOffset: UInt32 = 0
    var eaSeg = 0

    // Modes derived from CR0, EFLAGS and the segment caches (updateModes()).
    var code32 = false
    var stack32 = false
    var protected = false
    var vm86 = false
    var paging = false
    var cpl = 0
    /// Whether the software TLB was filled with user-mode (CPL 3) permission checks.
    var tlbUser = false
    /// CR0.AM, EFLAGS.AC and CPL 3: misaligned data accesses raise #AC.
    var alignmentCheck = false
    /// Alignment checks or data breakpoints are on: the TLB stays empty, so every data access
    /// takes the slow path that checks them.
    var checkedAccess = false

    // Control and system registers.
    var cr0: UInt32 = 0x6000_0010
    var cr2: UInt32 = 0
    var cr3: UInt32 = 0
    var cr4: UInt32 = 0
    var gdtBase: UInt32 = 0
    var gdtLimit: UInt32 = 0xFFFF
    var idtBase: UInt32 = 0
    var idtLimit: UInt32 = 0x3FF
    var ldtr = SegmentCache()
    var tr = SegmentCache(selector: 0, base: 0, limit: 0xFFFF, attr: 0x8B)

    // Run-loop signals.
    var halted = false
    /// Set when INTR, NMI or IF may have changed: the run loop samples them.
    var irqCheck = true
    /// One-instruction interrupt shadow after STI and MOV/POP SS.
    var interruptShadow = false

    // Instruction fetch window: EIPs in [fetchLo, fetchLo+fetchLen) read from fetchPtr+(EIP-fetchLo).
    // It covers one guest page (CS base, paging and A20 applied); fetchLen 0 means refill.
    var fetchLo: UInt32 = 0
    var fetchLen: UInt32 = 0
    var fetchPtr: UnsafeMutableRawPointer?
    /// `DecodeCache.key` of EIP fetchLo: its physical address (A20 applied), the mode it is
    /// decoded in (CS changes empty the window) and whether the CS limit cuts the window short,
    /// so that EIP fetchLo+n has key fetchKey+n.
    var fetchKey: UInt64 = 0
}

/// Kinds of the last flag-setting operation (CPUState.lazyOp).
enum LazyOp {
    static let none: UInt32 = 0
    static let add: UInt32 = 1
    static let adc: UInt32 = 2  // add with carry-in 1
    static let sub: UInt32 = 3
    static let sbb: UInt32 = 4  // subtract with borrow-in 1
    static let logic: UInt32 = 5
    static let inc: UInt32 = 6  // CF kept in `flags`
    static let dec: UInt32 = 7  // CF kept in `flags`
    // Shifts by a non-zero count: dst is the value shifted, src the count; AF is 0.
    static let shl: UInt32 = 8
    static let shr: UInt32 = 9
    static let sar: UInt32 = 10
    /// Or-ed into a kind by ROL/ROR, which change only CF and OF: those two are then in
    /// `flags` (the kind no longer matches a case that computes them), SF ZF AF PF still lazy.
    static let rotated: UInt32 = 0x10
}

/// EFLAGS bits.
enum Flag {
    static let CF: UInt32 = 1 << 0
    static let PF: UInt32 = 1 << 2
    static let AF: UInt32 = 1 << 4
    static let ZF: UInt32 = 1 << 6
    static let SF: UInt32 = 1 << 7
    static let TF: UInt32 = 1 << 8
    static let IF: UInt32 = 1 << 9
    static let DF: UInt32 = 1 << 10
    static let OF: UInt32 = 1 << 11
    static let IOPL: UInt32 = 3 << 12
    static let NT: UInt32 = 1 << 14
    static let RF: UInt32 = 1 << 16
    static let VM: UInt32 = 1 << 17
    static let AC: UInt32 = 1 << 18
    static let ID: UInt32 = 1 << 21
    static let arith: UInt32 = CF | PF | AF | ZF | SF | OF
    /// What a task switch loads from a TSS.
    static let taskState: UInt32 = arith | TF | IF | DF | IOPL | NT | RF | VM | AC | ID
}

/// Segment register indices in x86 encoding order.
enum SegReg {
    static let es = 0
    static let cs = 1
    static let ss = 2
    static let ds = 3
    static let fs = 4
    static let gs = 5
}

/// CR0 bits.
enum CR0 {
    static let pe: UInt32 = 1 << 0
    static let mp: UInt32 = 1 << 1
    static let em: UInt32 = 1 << 2
    static let ts: UInt32 = 1 << 3
    static let ne: UInt32 = 1 << 5
    static let am: UInt32 = 1 << 18
    static let wp: UInt32 = 1 << 16
    static let pg: UInt32 = 1 << 31
}

/// CR4 bits.
enum CR4 {
    static let tsd: UInt32 = 1 << 2
    static let pse: UInt32 = 1 << 4
    static let pae: UInt32 = 1 << 5
    static let pge: UInt32 = 1 << 7
    /// The OS saves FXSAVE state; without SSE it changes nothing here.
    static let osfxsr: UInt32 = 1 << 9
    /// What MOV CR4 accepts: the bits behind the CPUID features we report.
    static let supported: UInt32 = tsd | pse | pae | pge | osfxsr
}
