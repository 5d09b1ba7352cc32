/// An exception or interrupt on its way to the guest: a plain value, carried by typed throws
/// (no boxing, no allocation) from where it arises to the one delivery function.
struct Fault: Error {
    enum Kind: UInt8 {
        /// Restarts the instruction: EIP goes back to its first byte.
        case fault
        /// Reported after the instruction (INTO, INT3, debug traps).
        case trap
        /// INT n: the gate's DPL is checked against CPL.
        case software
        /// INTR or NMI.
        case external
    }

    var vector: UInt8
    var kind: Kind = .fault
    var errorCode: UInt32 = 0
    var hasErrorCode = false

    static func gp(_ code: UInt32 = 0) -> Fault { Fault(vector: 13, errorCode: code, hasErrorCode: true) }
    static func ss(_ code: UInt32 = 0) -> Fault { Fault(vector: 12, errorCode: code, hasErrorCode: true) }
    static func np(_ code: UInt32) -> Fault { Fault(vector: 11, errorCode: code, hasErrorCode: true) }
    static func ts(_ code: UInt32) -> Fault { Fault(vector: 10, errorCode: code, hasErrorCode: true) }
    static let ud = Fault(vector: 6)
    static let de = Fault(vector: 0)
}
