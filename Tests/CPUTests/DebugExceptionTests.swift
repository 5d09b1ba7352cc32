import Testing
@testable import Engine

/// Self-checking nasm guests for #DB (single-step traps, instruction breakpoints) and #AC.
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
        \(ProtectedModeTests.faultRecovery)
        idt:
            dq 0
            GATE db_handler, 0x8E00
        idt_end:
        """)
    }

    @Test func singleStepWaitsOneInstructionAfterMovSS() throws {
        // The trap after MOV SS comes after the instruction that follows it (one #DB for both),
        // so that SS:ESP can be loaded in two instructions.
        try ProtectedModeTests.expectPass("""
            lidt [idtr]
            pushfd                                  ; TF clear, for the last POPFD
            pushfd
            or dword [esp], 0x100
            mov ax, ss
            popfd                                   ; TF on
            mov ss, ax
            nop
        after_pair:
            popfd
            cmp dword [count], 2
            CHECK jne, 'a'
            cmp dword [first_eip], after_pair
            CHECK jne, 'b'
            jmp pass
        db_handler:
            inc dword [count]
            cmp dword [count], 1
            jne .done
            push eax
            mov eax, [esp + 4]
            mov [first_eip], eax
            pop eax
        .done:
            iretd
        align 4
        count: dd 0
        first_eip: dd 0
        \(ProtectedModeTests.faultRecovery)
        idt:
            dq 0
            GATE db_handler, 0x8E00
        idt_end:
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
        \(ProtectedModeTests.faultRecovery)
        idt:
            dq 0
            GATE db_handler, 0x8E00
        idt_end:
        """)
    }

    @Test func alignmentCheckAtRingThreeOnly() throws {
        // CR0.AM and EFLAGS.AC at ring 3: a misaligned dword read is #AC(0), an aligned one
        // is fine, and with AC clear again misalignment is allowed.
        try ProtectedModeTests.expectPass("""
            lidt [idtr]
            mov ax, 0x30
            ltr ax
            mov eax, cr0
            or eax, 1 << 18                         ; AM
            mov cr0, eax
            mov dword [0x6000], 0x44332211
            mov dword [0x6004], 0x88776655
            RING3 0x40002, user                     ; AC
        user:
            mov ax, 0x2B
            mov ds, ax
            mov eax, [0x6004]                       ; aligned: fine
            cmp eax, 0x88776655
            jne user_fail
            mov dword [recover], .after
            mov eax, [0x6001]                       ; misaligned: #AC(0)
            jmp user_fail
        .after:
            cmp dword [last_error], 0
            jne user_fail
            cmp dword [last_vector], 17
            jne user_fail
            mov dword [last_vector], -1
            pushfd
            and dword [esp], ~0x40000               ; AC off
            popfd
            mov eax, [0x6001]
            cmp eax, 0x55443322
            jne user_fail
            int 0x80
        user_fail:
            int 0x81
        done:
            cmp dword [last_vector], -1               ; no #AC once AC was clear
            CHECK jne, 'a'
            jmp pass
        bad:
            mov al, 'x'
            jmp fail
        \(ProtectedModeTests.faultRecovery)
        HANDLER 17, 1
        idt:
            times 17 dq 0
            GATE h17, 0x8E00
            times 0x80 - 18 dq 0
            GATE done, 0xEE00
            GATE bad, 0xEE00
        idt_end:
        """)
    }

    @Test func dataBreakpointsTrapAfterTheAccess() throws {
        // DR1 watches the dword at `watched` for writes, then for reads and writes.
        try ProtectedModeTests.expectPass("""
            lidt [idtr]
            mov eax, watched
            mov dr1, eax
            mov eax, (1 << 2) | (01b << 20) | (11b << 22)  ; L1, writes, 4 bytes
            mov dr7, eax
            mov eax, [watched]                      ; a read: no trap
            mov word [watched + 2], 7               ; a write to its upper half: trap
        after_write:
            cmp dword [hits], 1
            CHECK jne, 'a'
            cmp dword [hit_eip], after_write        ; after the instruction
            CHECK jne, 'b'
            mov eax, dr6
            test eax, 2                             ; B1
            CHECK jz, 'c'
            mov word [watched + 4], 7               ; next to it: no trap
            mov eax, (1 << 2) | (11b << 20) | (11b << 22)  ; reads and writes
            mov dr7, eax
            mov eax, [watched]
        after_read:
            cmp dword [hits], 2
            CHECK jne, 'd'
            cmp dword [hit_eip], after_read
            CHECK jne, 'e'
            xor eax, eax
            mov dr7, eax
            mov eax, [watched]                      ; disabled: no trap
            cmp dword [hits], 2
            CHECK jne, 'f'
            jmp pass
        db_handler:
            inc dword [hits]
            push eax
            mov eax, [esp + 4]
            mov [hit_eip], eax
            pop eax
            iretd
        align 4
        hits: dd 0
        hit_eip: dd 0
        watched: dd 0, 0
        \(ProtectedModeTests.faultRecovery)
        idt:
            dq 0
            GATE db_handler, 0x8E00
        idt_end:
        """)
    }
}
