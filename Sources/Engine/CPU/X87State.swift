/// The x87 FPU's control state; the eight data registers live in `Interpreter.fpr`
/// (physical order) as Float80, the host's own 80-bit extended format.
struct X87State {
    var control: UInt16 = 0x037F
    /// Status word without TOP (bits 11-13 come from `top`).
    var status: UInt16 = 0
    var top = 0
    /// Two bits per physical register: 0 valid, 1 zero, 2 special, 3 empty.
    var tags: UInt16 = 0xFFFF

    static let c0: UInt16 = 1 << 8
    static let c1: UInt16 = 1 << 9
    static let c2: UInt16 = 1 << 10
    static let c3: UInt16 = 1 << 14
    static let conditionBits: UInt16 = c0 | c1 | c2 | c3

    var statusWord: UInt16 { (status & ~0x3800) | UInt16(top << 11) }
}
