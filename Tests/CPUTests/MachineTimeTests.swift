import Foundation
import Synchronization
import Testing
@testable import Engine

/// The machine's time owner and pushed interrupts: slices end at the scheduler's next deadline,
/// a device arming an earlier timer ends the running slice, a halted vCPU sleeps until a
/// deadline or a wake, never in a fixed sleep.
@Suite struct MachineTimeTests {
    /// Stand-in ROMs: the guests are loaded directly and never call the BIOS.
    static let firmware = Firmware(biosPath: "bios", bios: [UInt8](repeating: 0, count: 0x20000),
                                   vgaBiosPath: "vgabios", vgaBios: [UInt8](repeating: 0, count: 0x8000))

    static func machine(_ source: String, timeMode: Machine.TimeMode) throws -> Machine {
        let code = try GuestProgram.assemble(source)
        let config = VMConfig(name: "time", memoryMiB: 16, network: .init(mode: .none))
        let machine = try Machine(config: config, firmware: firmware, timeMode: timeMode) { Interpreter(environment: $0) }
        for (i, b) in code.enumerated() { machine.memory.write(0x1000 + UInt32(i), width: 1, value: UInt32(b)) }
        var registers = machine.vcpus[0].registers
        registers.segments[1] = VCPUSegment(selector: 0, base: 0, limit: 0xFFFF, attributes: 0x9B)
        registers.rip = 0x1000
        machine.vcpus[0].registers = registers
        return machine
    }

    /// Programs PIT channel 0 for 100 ticks (84 µs) and spins.
    static let pitGuest = """
    bits 16
    org 0x1000
        mov al, 0x34            ; channel 0, low then high byte, mode 2
        out 0x43, al
        mov al, 100
        out 0x40, al
        xor al, al
        out 0x40, al
    spin:
        jmp spin
    """

    /// Without the notification the first slice would run its whole 100 ms (10 million
    /// instructions) before anyone looked at the PIT.
    @Test(GuestProgram.needsNASM)
    func aTimerArmedByADeviceEndsTheSliceEarly() throws {
        let machine = try Self.machine(Self.pitGuest, timeMode: .deterministic(nanosecondsPerInstruction: 10))
        machine.maxSliceNanoseconds = 100_000_000
        #expect(machine.runSlice() == nil)
        #expect(machine.instructionsRetired < 1_000, "the slice went on after the PIT was armed")
        #expect(machine.runSlice() == nil)
        let edge = PIT8254.hz // one second in ticks: the edge is 100 ticks after the load
        #expect(machine.clock.nanoseconds < 100 * 1_000_000_000 / edge + 1_000, "the second slice ends at the PIT's edge")
        #expect(machine.pic.isRequested(0))
    }

    /// Sets up IRQ 1 at vector 0x21, stops the RTC's update timer (so no timer is armed at all),
    /// halts with interrupts on, and says "W" from the handler.
    static let haltGuest = """
    bits 16
    org 0x1000
        xor ax, ax
        mov ds, ax
        mov ss, ax
        mov sp, 0x9000
        mov word [0x21 * 4], handler
        mov word [0x21 * 4 + 2], 0
        mov al, 0x0B            ; RTC register B: SET stops the update cycle
        out 0x70, al
        mov al, 0x82
        out 0x71, al
        mov al, 0x11            ; PIC ICW1..ICW4: vectors 0x20-0x27, slave on IR2
        out 0x20, al
        mov al, 0x20
        out 0x21, al
        mov al, 0x04
        out 0x21, al
        mov al, 0x01
        out 0x21, al
        mov al, 0xFD            ; only IRQ 1
        out 0x21, al
        sti
        hlt
        cli
        hlt
    handler:
        mov al, 'W'
        out 0xE9, al
        mov al, 0x20
        out 0x20, al
        iret
    """

    /// The halted sleep may last 30 s (no timer is armed): only the PIC's push ends it early.
    @Test(GuestProgram.needsNASM)
    func aHaltedGuestWakesOnAnInterruptFromAnotherThread() throws {
        nonisolated(unsafe) let machine = try Self.machine(Self.haltGuest, timeMode: .realtime)
        machine.maxSliceNanoseconds = 30_000_000_000
        let done = Atomic<Bool>(false)
        let finished = Atomic<Bool>(false)
        let engine = Thread {
            _ = MachineRunner(machine: machine).run { _ in !done.load(ordering: .relaxed) }
            finished.store(true, ordering: .relaxed)
        }
        engine.start()
        defer {
            done.store(true, ordering: .relaxed)
            machine.lock.wake()
            while !finished.load(ordering: .relaxed) { Thread.sleep(forTimeInterval: 0.001) }
        }
        let setup = HostClock.monotonicNow()
        while !machine.lock.withLock({ machine.idle }) {
            try #require(HostClock.monotonicNow() - setup < 10_000_000_000, "the guest never halted")
            Thread.sleep(forTimeInterval: 0.01)
        }
        let raised = HostClock.monotonicNow()
        machine.lock.withLock { machine.pic.setIRQ(1, level: true) }
        while machine.lock.withLock({ machine.debugConsole.text }) != "W" {
            try #require(HostClock.monotonicNow() - raised < 40_000_000_000, "the guest never ran its handler")
            Thread.sleep(forTimeInterval: 0.001)
        }
        let seconds = Double(HostClock.monotonicNow() - raised) / 1e9
        #expect(seconds < 1, "the halted guest took \(seconds) s to take the interrupt")
    }

    /// The slice that runs the handler returns before sleeping, so the session sees at once
    /// what the guest did (a key's echo); the next slice, halted from its start, sleeps.
    @Test(GuestProgram.needsNASM)
    func aSliceThatRanTheGuestReturnsBeforeSleeping() throws {
        let machine = try Self.machine(Self.haltGuest, timeMode: .deterministic(nanosecondsPerInstruction: 10))
        machine.maxSliceNanoseconds = 1_000_000_000
        while !machine.idle { #expect(machine.runSlice() == nil) }
        let halted = machine.clock.nanoseconds
        machine.pic.setIRQ(1, level: true)
        machine.pic.setIRQ(1, level: false)
        #expect(machine.runSlice() == nil)
        #expect(machine.debugConsole.text == "W")
        #expect(machine.idle)
        #expect(machine.clock.nanoseconds - halted < 1_000_000, "the slice slept after the handler ran")
        #expect(machine.runSlice() == nil)
        #expect(machine.clock.nanoseconds - halted >= 1_000_000_000, "a slice halted from its start sleeps to its end")
    }
}
