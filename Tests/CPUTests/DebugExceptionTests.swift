import Testing
@testable import Engine

/// Self-checking nasm guests for #DB: single-step traps and instruction breakpoints.
@Suite struct DebugExceptionTests {
    @Test func singleStepTrapsAfterEachInstructionWhileTFIsSet() throws {
        // POPF sets TF: no trap after that POPF, one after each of the three instructions that
        // follow, the last being the POPF that clears TF. The handler runs with TF clear.
        try ProtectedModeTests.expectPass("""
            lidt [idtr]
            pushfd                                  ; TF clear, for the POPF at `third`
            pushfd
            or dword [esp], 0x100
            popfd                                   ; TF on
        first:
            nop
        second:
            mov eax, 5
        third:
            popfd                                   ; TF off
        after:
            cmp dword [count], 3
            CHECK jne, 'a'
            cmp dword [eips], second
            CHECK jne, 'b'
            cmp dword [eips + 4], third
            CHECK jne, 'c'
            cmp dword [eips + 8], after
            CHECK jne, 'd'
            mov eax, dr6
            test eax, 0x4000                        ; DR6.BS
            CHECK jz, 'e'
            jmp pass
        db_handler:
            push eax
            pushfd
            test dword [esp], 0x100                 ; the handler is not stepped
            CHECK jnz, 'f'
            popfd
            mov eax, [count]
            push ebx
            mov ebx, [esp + 8]                      ; interrupted EIP
            mov [eips + eax * 4], ebx
            pop ebx
            inc dword [count]
            pop eax
            iretd
        align 4
        count: dd 0
        eips: times 4 dd 0
        idt:
            dq 0
            dw db_handler - $$ + 0x1000, 0x08, 0x8E00, 0
        idt_end:
        idtr:
            dw idt_end - idt - 1
            dd idt
        """)
    }

    @Test func instructionBreakpointFiresBeforeTheInstructionAndRFResumesIt() throws {
        try ProtectedModeTests.expectPass("""
            lidt [idtr]
            mov eax, target
            mov dr0, eax
            mov eax, 1                              ; L0, execute, 1 byte
            mov dr7, eax
            xor ecx, ecx
        target:
            inc ecx                                 ; breakpoint: #DB before it runs, once
            cmp ecx, 1
            CHECK jne, 'a'
            cmp dword [hits], 1
            CHECK jne, 'b'
            cmp dword [hit_eip], target
            CHECK jne, 'c'
            cmp dword [hit_ecx], 0                  ; INC had not run yet
            CHECK jne, 'd'
            mov eax, dr6
            test eax, 1                             ; B0
            CHECK jz, 'e'
            jmp pass
        db_handler:
            inc dword [hits]
            mov [hit_ecx], ecx
            push eax
            mov eax, [esp + 4]
            mov [hit_eip], eax
            or dword [esp + 12], 0x10000            ; RF: resume without hitting it again
            pop eax
            iretd
        align 4
        hits: dd 0
        hit_eip: dd 0
        hit_ecx: dd -1
        idt:
            dq 0
            dw db_handler - $$ + 0x1000, 0x08, 0x8E00, 0
        idt_end:
        idtr:
            dw idt_end - idt - 1
            dd idt
        """)
    }
}
