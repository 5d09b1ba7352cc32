import Foundation
import Testing
import Engine

/// The benchmark guest runs to its budget without stopping; prints guest MIPS.
/// Measure a release build: swift test -c release -Xswiftc -enable-testing --filter BenchmarkTests
@Test func benchmarkGuestRunsAndReportsMIPS() throws {
    let count = Int(ProcessInfo.processInfo.environment["CPU_BENCH_INSTRUCTIONS"] ?? "") ?? 20_000_000
    let result = try Interpreter.benchmark(instructions: count)
    print("Interpreter benchmark: \(result)")
    #expect(result.exit == .deadlineReached)
    #expect(result.instructions == UInt64(count))
    #expect(result.mips > 0)
}
