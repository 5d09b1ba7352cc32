/// The outcome of `Interpreter.benchmark`: guest instructions retired per host second.
public struct InterpreterBenchmark: Sendable, CustomStringConvertible {
    public let instructions: UInt64
    public let seconds: Double
    /// How the last slice ended: `.sliceExpired` for a complete run.
    public let exit: BackendExit
    public var mips: Double { seconds > 0 ? Double(instructions) / seconds / 1e6 : 0 }

    public var description: String {
        let rounded = (mips * 10).rounded() / 10
        return "\(instructions) guest instructions in \(seconds) s: \(rounded) MIPS"
    }
}
