import Testing
import Engine

/// The benchmark guest runs to its budget without stopping; prints guest MIPS.
/// Measure a release build: swift test -c release -Xswiftc -enable-testing --filter BenchmarkTests
@Test func benchmarkGuestRunsAndReportsMIPS() throws {
    let result = try Interpreter.benchmark(instructions: 20_000_000)
    print("Interpreter benchmark: \(result)")
    #expect(result.exit == .sliceExpired)
    #expect(result.instructions == 20_000_000)
    #expect(result.mips > 0)
}
