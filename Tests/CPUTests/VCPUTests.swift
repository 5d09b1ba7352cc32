import Foundation
import Testing
@testable import Engine

/// The interpreter as a VCPU: kicks from another thread, deadlines as budgets, registers, INIT
/// and SIPI.
@Suite struct VCPUTests {
    /// Where the bare vCPUs' x87 error latch sends IRQ 13; a property, so it outlives the unowned lines.
    let irqs = InterruptRouter()

    /// A bare CPU spinning on `jmp $` (EB FE) at 0000:1000.
    static func spinningCPU(clock: MachineClock? = nil) throws -> Interpreter {
        let memory = try MemoryMap(ramSize: 1 << 20)
        memory.write(0x1000, width: 1, value: 0xEB)
        memory.write(0x1001, width: 1, value: 0xFE)
        let cpu = Interpreter(memory: memory, ports: PortMap(), clock: clock)
        cpu.loadRealCS(0)
        cpu.state.pointee.eip = 0x1000
        return cpu
    }

    /// Without the kick the slice would run 50 million instructions (seconds even in release).
    @Test func kickFromAnotherThreadStopsASpinningGuestPromptly() throws {
        nonisolated(unsafe) let cpu = try Self.spinningCPU()
        let kicker = Thread {
            Thread.sleep(forTimeInterval: 0.05)
            cpu.kick()
        }
        let start = HostClock.monotonicNow()
        kicker.start()
        let exit = cpu.run(until: 50_000_000)
        let seconds = Double(HostClock.monotonicNow() - start) / 1e9
        #expect(exit == .kicked)
        #expect(seconds < 1, "the kick took \(seconds) s to stop the guest")
        #expect(cpu.instructionsRetired ?? 0 < 50_000_000)
    }

    @Test func aKickBeforeRunIsKeptAndAnswersOnce() throws {
        let cpu = try Self.spinningCPU()
        cpu.kick()
        #expect(cpu.run(until: 1_000) == .kicked)
        #expect(cpu.run(until: 1_000) == .deadlineReached)
    }

    @Test func deterministicDeadlinesBecomeBudgetsAndAdvanceTheClock() throws {
        let clock = ManualClock()
        let memory = try MemoryMap(ramSize: 1 << 20)
        memory.write(0x1000, width: 1, value: 0xEB)
        memory.write(0x1001, width: 1, value: 0xFE)
        let cpu = Interpreter(environment: VCPUEnvironment(
            index: 0, memory: memory, ports: PortMap(), clock: clock, timeMode: .deterministic(nanosecondsPerInstruction: 10),
            interrupts: PIC8259Pair(), coprocessorError: CoprocessorErrorLatch(irq13: irqs.line(13)), lock: MachineLock()))
        cpu.loadRealCS(0)
        cpu.state.pointee.eip = 0x1000
        #expect(cpu.run(until: 1_000_000) == .deadlineReached)
        #expect(cpu.instructionsRetired == 100_000)
        #expect(clock.nanoseconds == 1_000_000)
    }

    @Test func realtimeRunsReachTheirDeadline() throws {
        let clock = HostClock()
        let cpu = try Self.spinningCPU(clock: clock)
        let deadline = clock.nanoseconds + 20_000_000
        #expect(cpu.run(until: deadline) == .deadlineReached)
        let late = Int64(clock.nanoseconds) - Int64(deadline)
        #expect(late >= 0)
        #expect(late < 500_000_000, "overran the deadline by \(late) ns")
    }

    @Test func registersRoundTripAndReachTheGuest() throws {
        let cpu = try Self.spinningCPU()
        var r = cpu.registers
        #expect(r.rip == 0x1000)
        #expect(r.segments[1].selector == 0)
        r.gpr[0] = 0x1234_5678
        r.rip = 0x1000
        r.rflags = 0x202
        r.segments[3] = VCPUSegment(selector: 0x40, base: 0x400, limit: 0xFFFF, attributes: 0x93)
        cpu.registers = r
        #expect(cpu.gpr[0] == 0x1234_5678)
        #expect(cpu.seg[SegReg.ds].base == 0x400)
        #expect(cpu.registers == r)
        #expect(cpu.registers.dump.contains("EAX 12345678"))
    }

    /// SDM table 9-1: INIT keeps the x87 state and CR0.CD/NW; power-on clears them.
    @Test func initKeepsX87StateAndStartsAtTheResetVector() throws {
        let cpu = try Self.spinningCPU()
        cpu.fpu.pointee.control = 0x0272
        cpu.state.pointee.cr0 = 0x4000_0011
        cpu.reset(.initSignal)
        #expect(cpu.fpu.pointee.control == 0x0272)
        #expect(cpu.registers.cr0 == 0x4000_0010)
        #expect(cpu.registers.rip == 0xFFF0)
        #expect(cpu.registers.segments[1].base == 0xFFFF_0000)
        cpu.reset(.powerOn)
        #expect(cpu.fpu.pointee.control == 0x037F)
        #expect(cpu.registers.cr0 == 0x6000_0010)
    }

    /// An application processor waits for SIPI after INIT, then starts at vector << 12.
    @Test func anApplicationProcessorStartsAtTheSIPIVector() throws {
        let memory = try MemoryMap(ramSize: 1 << 20)
        memory.write(0x9_A000, width: 1, value: 0xF4) // hlt
        let cpu = Interpreter(environment: VCPUEnvironment(
            index: 1, memory: memory, ports: PortMap(), clock: ManualClock(), timeMode: .realtime,
            interrupts: PIC8259Pair(), coprocessorError: CoprocessorErrorLatch(irq13: irqs.line(13)), lock: MachineLock()))
        #expect(cpu.run(until: .max) == .haltedForever, "waits for SIPI")
        cpu.startup(vector: 0x9A)
        #expect(cpu.registers.segments[1].selector == 0x9A00)
        #expect(cpu.run(instructions: 10) == .haltedForever) // HLT with IF = 0
        #expect(cpu.registers.rip == 0x1)
    }

    @Test func cpuidAnswersFromTheModelTable() throws {
        let memory = try MemoryMap(ramSize: 1 << 20)
        // mov eax, 1; cpuid; hlt
        for (i, b) in [0x66, 0xB8, 1, 0, 0, 0, 0x0F, 0xA2, 0xF4].enumerated() { memory.write(0x1000 + UInt32(i), width: 1, value: UInt32(b)) }
        let cpu = Interpreter(memory: memory, ports: PortMap())
        cpu.loadRealCS(0)
        cpu.state.pointee.eip = 0x1000
        _ = cpu.run(instructions: 10)
        #expect(cpu.gpr[0] == CPUModel.interpreter.signature)
        #expect(cpu.gpr[2] == CPUModel.interpreter.cpuid(function: 1).edx)
        #expect(cpu.gpr[2] & (1 << 9) == 0, "no APIC in CPUID while none is modelled")
    }

    @Test func aModelRestrictedToAHostKeepsOnlyBothFeatures() {
        let host = [CPUModel.Leaf(function: 0, eax: 0xD, ebx: 0, ecx: 0, edx: 0),
                    CPUModel.Leaf(function: 1, eax: 0x806F8, ebx: 0, ecx: 0, edx: 1 | 1 << 4)]
        let model = CPUModel.interpreter.restricted(to: host)
        #expect(model.cpuid(function: 1).edx == 1 | 1 << 4)
        #expect(model.cpuid(function: 1).eax == CPUModel.interpreter.signature)
        #expect(model.cpuid(function: 0).eax == 1)
        #expect(model.cpuid(function: 0x8000_0000).eax == 0x8000_0000)
    }
}
