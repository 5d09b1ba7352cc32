import Testing
@testable import Engine

/// Self-checking nasm guests for hardware task switches, the I/O permission bitmap and the
/// protection checks around them. They run on ProtectedModeTests' prelude (flat ring-0 code at
/// 0x08, data at 0x10, ring-3 code/data at 0x20/0x28, TSS A at 0x30) and load a larger GDT.
@Suite struct TaskSwitchTests {
    /// A second GDT: the prelude's entries, TSS B (32-bit, 0x38), TSS C (16-bit, 0x40), a task
    /// gate to B (0x48), TSS D (32-bit, 0x50) for the IDT task gate, a TSS with an I/O bitmap
    /// (0x58) and a data segment with a 64 KiB limit (0x60).
    static let tasks = """
        lgdt [gdtr2]
        mov ax, 0x30
        ltr ax                              ; task A: this code
        jmp after_tables
    %define TSS_A 0x3000
    %define TSS_B 0x3100
    %define TSS_C 0x3200
    %define TSS_D 0x3300
    %define TSS_IO 0x3400
    align 8
    gdt2:
        dq 0
        dq 0x00CF9A000000FFFF
        dq 0x00CF92000000FFFF
        dq 0x00009A000000FFFF
        dq 0x00CFFA000000FFFF
        dq 0x00CFF2000000FFFF
        dw 0x67, TSS_A, 0x8900, 0           ; 0x30 TSS A (32-bit)
        dw 0x67, TSS_B, 0x8900, 0           ; 0x38 TSS B (32-bit)
        dw 0x2B, TSS_C, 0x8100, 0           ; 0x40 TSS C (16-bit)
        dw 0, 0x38, 0x8500, 0               ; 0x48 task gate -> B
        dw 0x67, TSS_D, 0x8900, 0           ; 0x50 TSS D (32-bit)
        dw 0xE8, TSS_IO, 0x8900, 0          ; 0x58 TSS, I/O bitmap for ports 0-0x3FF
        dq 0x00409200_0000FFFF              ; 0x60 32-bit data, limit 0xFFFF
    gdt2_end:
    gdtr2:
        dw gdt2_end - gdt2 - 1
        dd gdt2
    ; Fills the TSS at EDI with EIP = EAX, ESP = EDX, flat ring-0 segments, EFLAGS 2.
    init_tss:
        push ecx
        push edi
        mov ecx, 0x68 / 4
        push eax
        xor eax, eax
        rep stosd
        pop eax
        pop edi
        pop ecx
        mov [edi + 0x20], eax
        mov dword [edi + 0x24], 2
        mov [edi + 0x38], edx
        mov word [edi + 0x48], 0x10         ; ES
        mov word [edi + 0x4C], 0x08         ; CS
        mov word [edi + 0x50], 0x10         ; SS
        mov word [edi + 0x54], 0x10         ; DS
        mov word [edi + 0x58], 0x10         ; FS
        mov word [edi + 0x5C], 0x10         ; GS
        mov dword [edi + 0x04], 0x8F00      ; ESP0
        mov dword [edi + 0x08], 0x10        ; SS0
        ret
    ; Busy bit (type bit 1) of the GDT descriptor whose selector is in AX, into CF.
    busy:
        movzx eax, ax
        bt dword [gdt2 + eax + 4], 9
        ret
    after_tables:

    """

    @Test func callIretAndJumpBetweenTasks() throws {
        try ProtectedModeTests.expectPass(Self.tasks + """
            lidt [idtr]
            mov edi, TSS_B
            mov eax, task_b
            mov edx, 0x7000
            call init_tss
            mov dword [TSS_B + 0x28], 0x11111111    ; EAX of task B
            mov esi, 0x5A5A5A5A                     ; must survive in task A
            clts
            call 0x38:0                             ; CALL to TSS B (the offset is ignored)
        back_in_a:                                  ; task B's IRET lands here
            cmp esi, 0x5A5A5A5A
            CHECK jne, 'a'
            pushfd
            test dword [esp], 0x4000                ; NT is A's own again (clear)
            CHECK jnz, 'b'
            popfd
            mov ax, 0x38
            call busy
            CHECK jc, 'c'                           ; B is free after its IRET
            mov ax, 0x30
            call busy
            CHECK jnc, 'd'                          ; A stayed busy
            cmp dword [TSS_B + 0x20], b_after_iret  ; B's state saved at the IRET
            CHECK jne, 'e'
            cmp dword [TSS_B + 0x28], 0x22222222
            CHECK jne, 'f'
            smsw ax
            test ax, 8                              ; CR0.TS set by the switch
            CHECK jz, 'g'
            ; JMP through the task gate: no nesting, A is freed, B resumes after its IRET.
            jmp 0x48:0
        task_b:
            cmp eax, 0x11111111
            CHECK jne, 'h'
            pushfd
            test dword [esp], 0x4000                ; CALL nests: NT set
            CHECK jz, 'i'
            popfd
            cmp word [TSS_B], 0x30                  ; link = A
            CHECK jne, 'j'
            mov ax, 0x38
            call busy
            CHECK jnc, 'k'
            mov ax, 0x30
            call busy
            CHECK jnc, 'l'
            str ax
            cmp ax, 0x38
            CHECK jne, 'm'
            mov eax, 0x22222222
            iretd                                   ; back to A (link), B not busy any more
        b_after_iret:
            pushfd
            test dword [esp], 0x4000                ; a JMP does not nest: NT as B saved it
            CHECK jnz, 'n'
            popfd
            mov ax, 0x30
            call busy
            CHECK jc, 'o'                           ; the JMP freed A
            mov ax, 0x38
            call busy
            CHECK jnc, 'p'
            mov dword [recover], .after_busy
            jmp 0x38:0                              ; B is busy: #GP(0x38)
        .after_busy:
            cmp dword [last_error], 0x38
            CHECK jne, 'q'
            jmp pass
        gp:
            pop dword [last_error]
            push eax
            mov eax, [recover]
            mov [esp + 4], eax
            pop eax
            iretd
        align 4
        last_error: dd -1
        recover: dd 0
        idt:
            times 13 dq 0
            dw gp - $$ + 0x1000, 0x08, 0x8E00, 0
        idt_end:
        idtr:
            dw idt_end - idt - 1
            dd idt
        """)
    }

    @Test func exceptionThroughATaskGateGetsItsErrorCodeOnTheNewStack() throws {
        try ProtectedModeTests.expectPass(Self.tasks + """
            lidt [idtr]
            mov edi, TSS_D
            mov eax, gp_task
            mov edx, 0x7000
            call init_tss
            mov esi, 0x600DF00D
            mov ax, 0x40
            mov ds, ax                              ; a TSS is no data segment: #GP(0x40)
        faulted:                                    ; task D resumes A here
            cmp esi, 0x600DF00D
            CHECK jne, 'a'
            mov ax, ds
            cmp ax, 0x10
            CHECK jne, 'b'
            cmp dword [seen_error], 0x40
            CHECK jne, 'c'
            cmp dword [seen_esp], 0x7000 - 4        ; the error code went on D's stack
            CHECK jne, 'd'
            cmp word [TSS_D], 0x30                  ; link = A
            CHECK jne, 'e'
            jmp pass
        gp_task:
            mov [seen_esp], esp
            pop dword [seen_error]
            mov dword [TSS_A + 0x20], faulted       ; A resumes after the faulting MOV DS
            iretd
            jmp gp_task                             ; the next #GP would start here
        align 4
        seen_error: dd -1
        seen_esp: dd 0
        idt:
            times 13 dq 0
            dw 0, 0x50, 0x8500, 0                   ; #GP: task gate -> TSS D
        idt_end:
        idtr:
            dw idt_end - idt - 1
            dd idt
        """)
    }

    @Test func ioPermissionBitmapAtRingThree() throws {
        // Ring 3 with IOPL 0: OUT to 0xE9 is allowed by the bitmap (its bit clear), port 0x80
        // is not, and a word access to 0xE8 needs the bit of 0xE8 too.
        try ProtectedModeTests.expectPass(Self.tasks + """
            lidt [idtr]
            mov edi, TSS_IO
            mov ecx, 0x68 / 4
            xor eax, eax
            rep stosd
            mov dword [TSS_IO + 4], 0x8F00          ; ESP0
            mov dword [TSS_IO + 8], 0x10            ; SS0
            mov word [TSS_IO + 0x66], 0x68          ; bitmap right after the TSS
            mov ecx, 0x80 / 4
            mov eax, -1
            rep stosd                               ; ports 0-0x3FF denied, the byte after too...
            mov byte [edi], 0xFF
            mov eax, 0xE9
            btr [TSS_IO + 0x68], eax                ; ...but 0xE9
            mov ax, 0x58
            ltr ax
            push dword 0x2B
            push dword 0x7000
            push dword 0x002                        ; IOPL 0
            push dword 0x23
            push dword user
            iretd
        user:
            mov ax, 0x2B
            mov ds, ax
            mov dword [recover], .after_80
            out 0x80, al                            ; denied: #GP(0)
            jmp user_fail
        .after_80:
            mov dword [recover], .after_word
            mov dx, 0xE8
            out dx, ax                              ; 0xE8 denied: #GP(0)
            jmp user_fail
        .after_word:
            cmp dword [faults], 2
            jne user_fail
            mov al, 'P'
            out 0xE9, al                            ; allowed
            mov al, 'A'
            out 0xE9, al
            mov al, 'S'
            mov dx, 0xE9
            out dx, al
            out dx, al
            int 0x80
        user_fail:
            int 0x81
        done:
            hlt
        bad:
            mov al, 'x'
            jmp fail
        gp:
            add esp, 4
            inc dword [faults]
            push eax
            mov eax, [recover]
            mov [esp + 4], eax
            pop eax
            iretd
        align 4
        faults: dd 0
        recover: dd 0
        idt:
            times 13 dq 0
            dw gp - $$ + 0x1000, 0x08, 0x8E00, 0
            times 0x80 - 14 dq 0
            dw done - $$ + 0x1000, 0x08, 0xEE00, 0
            dw bad - $$ + 0x1000, 0x08, 0xEE00, 0
        idt_end:
        idtr:
            dw idt_end - idt - 1
            dd idt
        """)
    }

    @Test func enterFaultLeavesTheStackPointerAndNullSegmentsFault() throws {
        try ProtectedModeTests.expectPass(Self.tasks + """
            lidt [idtr]
            mov ax, 0x60
            mov ss, ax
            mov esp, 0x10
            mov dword [recover], .after_enter
        .enter:
            enter 0x20, 0                           ; the frame wraps past the 64 KiB limit: #SS(0)
            jmp .no_fault
        .after_enter:
            mov ebx, esp
            mov ax, 0x10
            mov ss, ax
            mov esp, 0x9000
            cmp dword [last_vector], 12
            CHECK jne, 'a'
            cmp ebx, 0x10                           ; ENTER restarts with ESP as it was
            CHECK jne, 'b'
            cmp dword [fault_eip], .enter
            CHECK jne, 'c'
            xor ax, ax
            mov es, ax                              ; null: loads fine...
            mov dword [recover], .after_null
            mov eax, [es:0]                         ; ...but every access is #GP(0)
            jmp .no_fault
        .after_null:
            cmp dword [last_vector], 13
            CHECK jne, 'd'
            jmp pass
        .no_fault:
            mov al, 'z'
            jmp fail
        ss_fault:
            mov dword [last_vector], 12
            jmp recover_from
        gp:
            mov dword [last_vector], 13
        recover_from:
            add esp, 4
            push eax
            mov eax, [esp + 4]
            mov [fault_eip], eax
            mov eax, [recover]
            mov [esp + 4], eax
            pop eax
            iretd
        align 4
        last_vector: dd -1
        fault_eip: dd 0
        recover: dd 0
        idt:
            times 12 dq 0
            dw ss_fault - $$ + 0x1000, 0x08, 0x8E00, 0
            dw gp - $$ + 0x1000, 0x08, 0x8E00, 0
        idt_end:
        idtr:
            dw idt_end - idt - 1
            dd idt
        """)
    }

    @Test func interruptThatFaultsOnTheRingZeroStackLeavesRingThreeIntact() throws {
        // INT 0x80 from ring 3 switches to the TSS stack 0x60:4, where the second push wraps
        // past the limit: #SS. The #SS goes through a task gate, so task D can read the state
        // the CPU saved for task A: still ring 3, the user stack, EIP at the INT.
        try ProtectedModeTests.expectPass(Self.tasks + """
            lidt [idtr]
            mov edi, TSS_D
            mov eax, ss_task
            mov edx, 0x7800
            call init_tss
            mov dword [TSS_A + 4], 4                ; ESP0
            mov dword [TSS_A + 8], 0x60             ; SS0: 64 KiB limit
            push dword 0x2B
            push dword 0x7000
            push dword 0x002
            push dword 0x23
            push dword user
            iretd
        user:
        int_at:
            int 0x80
            int 0x81
        ss_task:
            cmp word [TSS_A + 0x50], 0x2B           ; SS
            CHECK jne, 'a'
            cmp dword [TSS_A + 0x38], 0x7000        ; ESP
            CHECK jne, 'b'
            cmp word [TSS_A + 0x4C], 0x23           ; CS
            CHECK jne, 'c'
            cmp dword [TSS_A + 0x20], int_at        ; EIP: the INT itself
            CHECK jne, 'd'
            pop eax
            cmp eax, 0                              ; #SS(0)
            CHECK jne, 'e'
            jmp pass
        ring0:
            mov al, 'r'
            jmp fail
        idt:
            times 12 dq 0
            dw 0, 0x50, 0x8500, 0                   ; #SS: task gate -> TSS D
            times 0x80 - 13 dq 0
            dw ring0 - $$ + 0x1000, 0x08, 0xEE00, 0
            dw ring0 - $$ + 0x1000, 0x08, 0xEE00, 0
        idt_end:
        idtr:
            dw idt_end - idt - 1
            dd idt
        """)
    }
}
