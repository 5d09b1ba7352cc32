/// The outcome of `Interpreter.benchmark`: guest instructions retired per host second.
public struct InterpreterBenchmark: Sendable, CustomStringConvertible {
    public let instructions: UInt64
    /// Wall-clock seconds.
    public let seconds: Double
    /// CPU seconds of the benchmarking thread (robust against a busy host).
    public let cpuSeconds: Double
    /// How the last slice ended: `.deadlineReached` for a complete run.
    public let exit: VCPUExit
    /// Guest MIPS per wall-clock second.
    public var mips: Double { seconds > 0 ? Double(instructions) / seconds / 1e6 : 0 }
    /// Guest MIPS per CPU second of the interpreter thread.
    public var cpuMIPS: Double { cpuSeconds > 0 ? Double(instructions) / cpuSeconds / 1e6 : 0 }

    public var description: String {
        func tenths(_ v: Double) -> Double { (v * 10).rounded() / 10 }
        return "\(instructions) guest instructions: \(tenths(mips)) MIPS wall (\(tenths(seconds)) s), "
            + "\(tenths(cpuMIPS)) MIPS per CPU second (\(tenths(cpuSeconds)) s)"
    }
}
