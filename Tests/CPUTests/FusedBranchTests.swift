import Testing
@testable import Engine

/// A flag-setting register instruction and the Jcc after it run as one decoded pair
/// (`Interpreter.fuseJcc`), but they stay two instructions: a budget that ends after the
/// first, and a single-step trap, stop between them.
@Suite(GuestProgram.needsNASM)
struct FusedBranchTests {
    @Test func aBudgetOfOneStopsBetweenACompareAndItsJump() throws {
        let code = try GuestProgram.assemble("""
            bits 16
            org 0x1000
                cmp ax, 5           ; 3 bytes: the Jcc is at 0x1003
                jne skip
                nop
            skip:
                cli
                hlt
            """)
        let (cpu, _) = try GuestProgram.load(code, ports: PortMap())
        _ = cpu.run(instructions: 1)
        #expect(cpu.state.pointee.eip == 0x1003 && cpu.instructionsRetired == 1, "\(cpu.registerDump)")
        _ = cpu.run(instructions: 1)
        #expect(cpu.state.pointee.eip == 0x1006 && cpu.instructionsRetired == 2, "the Jcc, taken: \(cpu.registerDump)")
    }

    @Test func aSingleStepTrapComesBetweenADecrementAndItsJump() throws {
        let outcome = try GuestProgram.run("""
            bits 16
            org 0x1000
                xor ax, ax
                mov ds, ax
                mov ss, ax
                mov sp, 0x8000
                mov word [4], trap  ; vector 1 (#DB) at 0000:trap
                mov word [6], 0
                mov cx, 2
                pushf
                pop ax
                or ax, 0x100
                push ax
                popf                ; TF: a trap after the instruction that follows
                dec cx
            jump:
                jnz jump + 2
                cli
                hlt
            trap:                   ; the first trap: was its return address the JNZ?
                mov bp, sp
                cmp word [bp], jump
                mov al, 'Y'
                je .report
                mov al, 'N'
            .report:
                out 0xE9, al
                cli
                hlt
            """)
        #expect(outcome.output == "Y", "guest wrote \(outcome.output), exit \(outcome.exit)\n\(outcome.cpu.registerDump)")
    }
}
