/// The x87 FPU's control state; the eight data registers live in `Interpreter.fpr`
/// (physical order) as Float80, the host's own 80-bit extended format.
struct X87State {
    var control: UInt16 = 0x037F
    /// Status word without TOP (bits 11-13 come from `top`).
    var status: UInt16 = 0
    var top = 0
    /// Two bits per physical register: 0 valid, 1 zero, 2 special, 3 empty.
    var tags: UInt16 = 0xFFFF
    /// The last non-control instruction, for exception handlers: FCS:FIP (pointing at its
    /// prefixes), its opcode's low 11 bits (FOP) and FDS:FDP of its memory operand.
    var lastCS: UInt16 = 0
    var lastIP: UInt32 = 0
    var lastOpcode: UInt16 = 0
    var lastDS: UInt16 = 0
    var lastDP: UInt32 = 0
    /// Operands and results of a host computation pass through here, memory the C library's
    /// flag calls could touch, so the compiler keeps the computation between those calls.
    var hostOperands: (Float80, Float80) = (0, 0)
    var hostResults: (Float80, Float80) = (0, 0)
    var hostBits: UInt64 = 0

    static let c0: UInt16 = 1 << 8
    static let c1: UInt16 = 1 << 9
    static let c2: UInt16 = 1 << 10
    static let c3: UInt16 = 1 << 14
    static let conditionBits: UInt16 = c0 | c1 | c2 | c3

    // Exception flags (status) and their masks (control) share bit positions.
    static let ie: UInt16 = 1 << 0
    static let de: UInt16 = 1 << 1
    static let ze: UInt16 = 1 << 2
    static let oe: UInt16 = 1 << 3
    static let ue: UInt16 = 1 << 4
    static let pe: UInt16 = 1 << 5
    static let exceptionBits: UInt16 = 0x3F
    /// Stack fault: with IE, C1 tells overflow (1) from underflow (0).
    static let sf: UInt16 = 1 << 6
    /// Error summary: an unmasked exception is pending. B (busy) mirrors it.
    static let es: UInt16 = 1 << 7
    static let busy: UInt16 = 1 << 15

    /// The masked response to invalid operations: the negative quiet NaN "real indefinite".
    static let indefinite = -Float80.nan

    var statusWord: UInt16 { (status & ~0x3800) | UInt16(top << 11) }
}
