import TestSupport
import Testing
@testable import Engine

/// Bad guest code: the guest gets exceptions, the host keeps control.
@Suite struct BadInputTests {
    /// Random bytes as code in real and in 32-bit protected mode: every run returns within its
    /// budget with a defined exit; instructions retire (faults are delivered, not looped on).
    @Test(arguments: 0..<24)
    func garbageCodeNeverTakesTheHostDown(seed: Int) throws {
        let memory = try MemoryMap(ramSize: 4 << 20)
        var rng = SeededRandom(seed: UInt64(seed))
        for a in stride(from: UInt32(0), to: 0x20_0000, by: 8) {
            let v = rng.next()
            memory.write(a, width: 4, value: UInt32(truncatingIfNeeded: v))
            memory.write(a + 4, width: 4, value: UInt32(truncatingIfNeeded: v >> 32))
        }
        let cpu = Interpreter(memory: memory, ports: PortMap())
        if seed % 2 == 1 {
            let gdt: [UInt64] = [0, 0x00CF_9A00_0000_FFFF, 0x00CF_9200_0000_FFFF]
            for (i, d) in gdt.enumerated() {
                memory.write(0x30_0000 + UInt32(i * 8), width: 4, value: UInt32(truncatingIfNeeded: d))
                memory.write(0x30_0004 + UInt32(i * 8), width: 4, value: UInt32(truncatingIfNeeded: d >> 32))
            }
            try cpu.enterFlatProtectedMode(gdtBase: 0x30_0000, gdtLimit: 23, eip: 0x1000, esp: 0x8000)
        } else {
            cpu.loadRealCS(0x100)
            cpu.state.pointee.eip = 0
        }
        let clock = ContinuousClock()
        let start = clock.now
        var stopped = false
        for _ in 0..<20 where !stopped {
            switch cpu.run(instructions: 10_000) {
            case .deadlineReached, .halted, .kicked: continue
            case .haltedForever: stopped = true
            case .shutdown(let message), .ioError(let message), .internalError(let message, _):
                #expect(!message.isEmpty)
                stopped = true
            }
        }
        #expect(clock.now - start < .seconds(10), "seed \(seed) kept the host busy")
        #expect(stopped || cpu.retired > 0, "seed \(seed): no progress and no exit")
    }

    /// CLI; JMP $ spins forever, but each slice returns to the host on budget.
    @Test func spinningWithInterruptsOffReturnsEverySlice() throws {
        let memory = try MemoryMap(ramSize: 1 << 20)
        for (i, b) in [0xFA, 0xEB, 0xFE].enumerated() { memory.write(0x1000 + UInt32(i), width: 1, value: UInt32(b)) }
        let cpu = Interpreter(memory: memory, ports: PortMap())
        cpu.loadRealCS(0)
        cpu.state.pointee.eip = 0x1000
        for _ in 0..<5 { #expect(cpu.run(instructions: 100_000) == .deadlineReached) }
        #expect(cpu.retired == 500_000)
        #expect(cpu.state.pointee.flags & Flag.IF == 0)
    }

    /// A dword load across the 64 KiB real-mode limit is #GP (vector 13 through the IVT), and a
    /// dword store straddling a page boundary lands on both pages.
    @Test func limitViolationAndPageCrossing() throws {
        let memory = try MemoryMap(ramSize: 1 << 20)
        // IVT entry 13 -> 0000:2000, where the handler writes a marker and halts.
        memory.write(13 * 4, width: 4, value: 0x0000_2000)
        let handler: [UInt8] = [0xC6, 0x06, 0x00, 0x30, 0x0D, 0xF4] // mov byte [0x3000], 13; hlt
        for (i, b) in handler.enumerated() { memory.write(0x2000 + UInt32(i), width: 1, value: UInt32(b)) }
        let code: [UInt8] = [
            0x66, 0xC7, 0x06, 0xFE, 0x4F, 0x44, 0x33, 0x22, 0x11, // mov dword [0x4FFE], 0x11223344
            0x66, 0xA1, 0xFE, 0xFF,                               // mov eax, [0xFFFE]: past the limit
        ]
        for (i, b) in code.enumerated() { memory.write(0x1000 + UInt32(i), width: 1, value: UInt32(b)) }
        let cpu = Interpreter(memory: memory, ports: PortMap())
        cpu.loadRealCS(0)
        cpu.state.pointee.eip = 0x1000
        cpu.gpr[4] = 0x8000
        _ = cpu.run(instructions: 100)
        #expect(memory.read(0x4FFE, width: 2) == 0x3344)
        #expect(memory.read(0x5000, width: 2) == 0x1122)
        #expect(memory.read(0x3000, width: 1) == 13)
        #expect(memory.read(0x7FFA, width: 2) == 0x1009) // the pushed IP: the faulting instruction
    }
}
