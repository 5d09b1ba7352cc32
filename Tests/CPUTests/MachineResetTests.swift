import Testing
@testable import Engine

/// A reset the guest asks for takes effect at the instruction that asked, as on a PC: nothing
/// after the write runs, so a guest that triple-faults on purpose after it (SeaBIOS's reboot
/// path) is reset, not stopped.
@Suite struct MachineResetTests {
    /// Writes 0x06 (hard reset) to port CF9, then a marker at 0x500, then triple-faults.
    static let resetGuest = """
    bits 16
    org 0x1000
        xor ax, ax
        mov ds, ax
        mov dx, 0xCF9
        mov al, 0x06
        out dx, al
        mov byte [0x500], 1
        lidt [empty]
        int3
    empty: dw 0, 0, 0
    """

    @Test(GuestProgram.needsNASM)
    func aResetRequestEndsTheSliceAtTheWrite() throws {
        let machine = try MachineTimeTests.machine(Self.resetGuest, timeMode: .deterministic(nanosecondsPerInstruction: 10))
        #expect(machine.runSlice() == nil, "the triple fault after the reset request stopped the machine")
        #expect(machine.resetCount == 1)
        #expect(machine.memory.read(0x500, width: 1) == 0, "an instruction after the reset request ran")
    }
}
