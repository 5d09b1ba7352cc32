import Testing
@testable import Engine

/// RDTSC follows the machine's time when the machine provides it (a 1 GHz counter that keeps
/// counting while the guest halts, as QEMU's TCG), and never goes backwards.
/// A clock that (wrongly) runs back.
private final class BackwardClock: MachineClock {
    private var now: UInt64 = 5_000_000_123
    var nanoseconds: UInt64 {
        defer { now -= 1_000 }
        return now
    }
}

@Test func rdtscReadsMachineTimeAndStaysMonotonic() throws {
    let memory = try MemoryMap(ramSize: 1 << 20)
    // rdtsc; mov ebx, eax; mov esi, edx; rdtsc; hlt
    let code: [UInt8] = [0x0F, 0x31, 0x66, 0x89, 0xC3, 0x66, 0x89, 0xD6, 0x0F, 0x31, 0xF4]
    for (i, b) in code.enumerated() { memory.write(0x1000 + UInt32(i), width: 1, value: UInt32(b)) }
    let cpu = Interpreter(memory: memory, ports: PortMap(), clock: BackwardClock())
    cpu.loadRealCS(0)
    cpu.state.pointee.eip = 0x1000
    _ = cpu.run(instructions: 10)
    let first = UInt64(cpu.gpr[6]) << 32 | UInt64(cpu.gpr[3])
    let second = UInt64(cpu.gpr[2]) << 32 | UInt64(cpu.gpr[0])
    #expect(first == 5_000_000_123)
    #expect(second == first + 1)
}
