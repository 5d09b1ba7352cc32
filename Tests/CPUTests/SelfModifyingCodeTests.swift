import Testing
@testable import Engine

/// Self-modifying code and code replaced by DMA: what the interpreter keeps of code it ran (the
/// fetch window, DecodeCache) must follow every write to that code and the mode it runs in.
/// Each guest runs the code once before changing it, so that anything cached is stale afterwards.
@Suite(GuestProgram.needsNASM)
struct SelfModifyingCodeTests {
    @Test func aStoreChangesTheInstructionRightAfterIt() throws {
        let outcome = try GuestProgram.run("""
            bits 16
            org 0x1000
                xor bx, bx
                mov cx, 2
            again:
                mov byte [patch + 1], 0x42  ; the immediate of the next instruction
            patch:
                mov al, 0x00
                add bl, al
                mov byte [patch + 1], 0x00  ; undo, so the second pass patches cached code again
                loop again
                mov al, bl                  ; 0x84 when both passes ran the patched byte
                out 0xE9, al
                mov byte [opcode], 0x43     ; NOP -> INC BX, in the same straight-line run
            opcode:
                nop
                mov al, bl
                out 0xE9, al
                cli
                hlt
            """)
        #expect(outcome.bytes == [0x84, 0x85], "guest wrote \(outcome.bytes), exit \(outcome.exit)\n\(outcome.cpu.registerDump)")
        #expect(outcome.exit == .haltedForever)
    }

    @Test func aPatchOnTheNextPageChangesAnInstructionThatCrossesIt() throws {
        // MOV EAX, imm32 starting at 0x1FFD: its opcode bytes on one page, the immediate on the next.
        let outcome = try GuestProgram.run("""
            bits 16
            org 0x1000
                xor esi, esi
                mov cx, 2
                jmp straddle
            back:
                add esi, eax
                mov byte [straddle + 5], 0x13   ; the immediate's top byte, on the second page
                dec cx
                jnz straddle                ; LOOP cannot reach the next page
                mov eax, esi                ; 0x12345678 + 0x13345678
                mov cx, 4
            .print:
                out 0xE9, al
                shr eax, 8
                loop .print
                cli
                hlt
                times 0xFFD - ($ - $$) db 0x90
            straddle:
                mov eax, 0x12345678
                jmp back
            """)
        #expect(outcome.bytes == [0xF0, 0xAC, 0x68, 0x25], "guest wrote \(outcome.bytes), exit \(outcome.exit)\n\(outcome.cpu.registerDump)")
        #expect(outcome.exit == .haltedForever)
    }

    @Test func codeLoadedByDMAOverAPageThatRanBeforeRuns() throws {
        // The guest calls a routine at 0x3000, then waits for the "disk" to load a new one over
        // it (the DMA API the disk controllers use) and calls it again.
        let guest = try GuestProgram.assemble("""
            bits 16
            org 0x1000
                call 0x3000
                out 0xE9, al
            spin:
                cmp byte [0x4000], 0
                je spin
                call 0x3000
                out 0xE9, al
                cli
                hlt
            """)
        let first: [UInt8] = [0xB0, 0x11, 0xC3]  // mov al, 0x11; ret
        let second: [UInt8] = [0xB0, 0x22, 0xC3] // mov al, 0x22; ret
        let memory = try MemoryMap(ramSize: 1 << 20)
        try guest.withUnsafeBytes { try memory.dmaWrite(0x1000, from: $0) }
        try first.withUnsafeBytes { try memory.dmaWrite(0x3000, from: $0) }
        let ports = PortMap()
        let console = GuestProgram.Console()
        ports.register(console, ports: 0xE9...0xE9)
        let cpu = Interpreter(memory: memory, ports: ports)
        cpu.loadRealCS(0)
        cpu.state.pointee.eip = 0x1000
        #expect(cpu.run(instructions: 1000) == .deadlineReached) // spinning in `spin`
        try second.withUnsafeBytes { try memory.dmaWrite(0x3000, from: $0) }
        try memory.dmaWrite(0x4000, value: UInt8(1))
        let exit = cpu.run(instructions: 1000)
        #expect(console.bytes == [0x11, 0x22], "guest wrote \(console.bytes), exit \(exit)\n\(cpu.registerDump)")
        #expect(exit == .haltedForever)
    }

    @Test func aStoreThroughAWritePointerTakenBeforeThePageRanChangesIt() throws {
        // The first stores fill the TLB's fast write pointer for 0x3000 while it is plain data;
        // once the routine there has run, the same store must reach the decoded code. No port
        // I/O in between (it resynchronises the TLB), and the patched instruction is not the
        // routine's first (entering a page decodes afresh).
        let outcome = try GuestProgram.run("""
            bits 16
            org 0x1000
                xor ax, ax
                mov ds, ax
                mov byte [0x3000], 0x90     ; nop
                mov byte [0x3001], 0xB0     ; mov al, 0x11
                mov byte [0x3002], 0x11
                mov byte [0x3003], 0xC3     ; ret
                call 0x3000
                mov bl, al
                mov byte [0x3002], 0x22
                call 0x3000
                mov ah, al
                mov al, bl
                out 0xE9, al
                mov al, ah
                out 0xE9, al
                cli
                hlt
            """)
        #expect(outcome.bytes == [0x11, 0x22], "guest wrote \(outcome.bytes), exit \(outcome.exit)\n\(outcome.cpu.registerDump)")
        #expect(outcome.exit == .haltedForever)
    }

    @Test func theSameBytesRunAs16BitCodeThenAs32BitCode() throws {
        // NOP, then B8 11 22 C3 33 C3: MOV AX, 0x2211; RET as 16-bit code, MOV EAX, 0x33C32211;
        // RET as 32-bit code. What was decoded in real mode must not run in the 32-bit segment
        // (the NOP first: entering a page decodes afresh).
        let outcome = try GuestProgram.run("""
            bits 16
            org 0x1000
                cli
                xor ax, ax
                mov ds, ax
                mov ss, ax
                mov sp, 0x9000
                call 0x3000
                out 0xE9, al
                mov al, ah
                out 0xE9, al
                lgdt [gdtr]
                mov eax, cr0
                or al, 1
                mov cr0, eax
                jmp 0x08:pm32
            bits 32
            pm32:
                mov ax, 0x10
                mov ds, ax
                mov ss, ax
                mov esp, 0x9000
                call 0x3000
                shr eax, 24
                out 0xE9, al
                hlt
            align 8
            gdt:
                dq 0
                dq 0x00CF9A000000FFFF       ; 0x08 flat 32-bit code
                dq 0x00CF92000000FFFF       ; 0x10 flat data
            gdtr:
                dw 23
                dd gdt
                times 0x2000 - ($ - $$) db 0
                db 0x90, 0xB8, 0x11, 0x22, 0xC3, 0x33, 0xC3
            """)
        #expect(outcome.bytes == [0x11, 0x22, 0x33], "guest wrote \(outcome.bytes), exit \(outcome.exit)\n\(outcome.cpu.registerDump)")
        #expect(outcome.exit == .haltedForever)
    }
}
