import Testing
@testable import Engine

/// Self-checking nasm guests for protected mode as SeaBIOS and boot loaders use it. Each prints
/// "PASS" on port 0xE9, or "FAIL" and a letter naming the failed check.
@Suite(.enabled(if: GuestProgram.available, "needs nasm to assemble the guest (apt-get install nasm)"))
struct ProtectedModeTests {
    /// Shared guest code: a GDT (flat 32-bit code/data, 16-bit code, ring-3 code/data, a TSS),
    /// the switch into 32-bit protected mode, and PASS/FAIL reporting.
    static let prelude = """
    bits 16
    org 0x1000
    %macro RING3 2            ; RING3 eflags, entry: IRET to ring-3 code 0x23, stack 0x2B:0x7000
        push dword 0x2B
        push dword 0x7000
        push dword %1
        push dword 0x23
        push dword %2
        iretd
    %endmacro
    %macro CHECK 2            ; CHECK condition-jump-that-means-failure, letter
        %1 %%bad
        jmp %%ok
    %%bad:
        mov al, %2
        jmp fail
    %%ok:
    %endmacro
    start:
        cli
        xor ax, ax
        mov ds, ax
        mov ss, ax
        mov sp, 0x9000
        lgdt [gdtr]
        mov eax, cr0
        or al, 1
        mov cr0, eax
        jmp 0x08:pm32
    fail:                     ; AL = letter; works in any mode with CPL 0
        mov ah, al
        mov al, 'F'
        out 0xE9, al
        mov al, 'A'
        out 0xE9, al
        mov al, 'I'
        out 0xE9, al
        mov al, 'L'
        out 0xE9, al
        mov al, ah
        out 0xE9, al
        hlt
    pass:
        mov al, 'P'
        out 0xE9, al
        mov al, 'A'
        out 0xE9, al
        mov al, 'S'
        out 0xE9, al
        out 0xE9, al
        hlt
    align 8
    gdt:
        dq 0
        dq 0x00CF9A000000FFFF   ; 0x08 flat 32-bit code
        dq 0x00CF92000000FFFF   ; 0x10 flat data, 4 GiB
        dq 0x00009A000000FFFF   ; 0x18 16-bit code, base 0
        dq 0x00CFFA000000FFFF   ; 0x20 ring-3 flat code
        dq 0x00CFF2000000FFFF   ; 0x28 ring-3 flat data
    tss_desc:
        dw 103, tss, 0x8900, 0  ; 0x30 32-bit TSS (base < 64 KiB)
    gdt_end:
    gdtr:
        dw gdt_end - gdt - 1
        dd gdt
    align 4
    tss:
        dd 0, 0x8F00, 0x10      ; link, ESP0, SS0
        times 23 dd 0
    bits 32
    pm32:
        mov ax, 0x10
        mov ds, ax
        mov es, ax
        mov fs, ax
        mov gs, ax
        mov ss, ax
        mov esp, 0x9000

    """

    /// Exception handlers that record the vector (and error code) and resume at [recover]:
    /// `HANDLER vector, has-error-code` defines h<vector> (`PF_HANDLER` a #PF one that also keeps
    /// CR2), `GATE handler, type` is an IDT entry;
    /// the guest lays out its IDT between `idt:` and `idt_end:`, `idtr` points at it.
    static let faultRecovery = """
        %macro HANDLER 2
        h%1:
            %if %2
            pop dword [last_error]
            %endif
            mov dword [last_vector], %1
            push eax
            mov eax, [recover]
            mov [esp + 4], eax                  ; resume at the recovery label
            pop eax
            iretd
        %endmacro
        align 4
        last_vector: dd -1
        last_error: dd -1
        recover: dd 0
        %macro PF_HANDLER 0                     ; pf: HANDLER 14 that also notes CR2 in last_cr2
        pf:
            push eax
            mov eax, cr2
            mov [last_cr2], eax
            pop eax
            jmp h14
        HANDLER 14, 1
        last_cr2: dd 0
        %endmacro
        %macro GATE 2
            dw %1 - $$ + 0x1000, 0x08, %2, 0
        %endmacro
        idtr:
            dw idt_end - idt - 1
            dd idt

    """

    static func expectPass(_ body: String, budget: Int = 5_000_000, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let outcome = try GuestProgram.run(prelude + body, budget: budget)
        #expect(outcome.output == "PASS", "guest said \(outcome.output.debugDescription), exit \(outcome.exit)\n\(outcome.cpu.registerDump)",
                sourceLocation: sourceLocation)
        #expect(outcome.exit == .haltedForever, sourceLocation: sourceLocation)
    }

    @Test func protectedModeAndBigRealMode() throws {
        try Self.expectPass("""
            mov dword [0x200000], 0x12345678    ; above 1 MiB, needs the 4 GiB data limit
            mov eax, [0x200000]
            cmp eax, 0x12345678
            CHECK jne, 'a'
            jmp 0x18:pm16                       ; 16-bit protected mode, then real mode
        bits 16
        pm16:
            mov eax, cr0
            and al, 0xFE
            mov cr0, eax
            jmp 0:real
        real:
            xor ax, ax
            mov ds, ax                          ; real-mode load keeps the cached 4 GiB limit
            mov esi, 0x200000
            mov eax, [esi]
            cmp eax, 0x12345678
            CHECK jne, 'b'
            mov ax, cs
            test ax, ax
            CHECK jnz, 'c'
            pushfd                              ; EFLAGS.ID toggles: CPUID exists
            pop eax
            mov ecx, eax
            xor eax, 1 << 21
            push eax
            popfd
            pushfd
            pop eax
            xor eax, ecx
            test eax, 1 << 21
            CHECK jz, 'd'
            xor eax, eax
            cpuid
            cmp ebx, 'Genu'
            CHECK jne, 'e'
            mov eax, 1
            cpuid
            test edx, 1 << 9                    ; no APIC
            CHECK jnz, 'f'
            test edx, 1 << 12                   ; no MTRR
            CHECK jnz, 'g'
            rdtsc
            mov esi, eax
            rdtsc
            cmp eax, esi
            CHECK jbe, 'h'
            jmp pass
        """)
    }

    @Test func exceptionsAndInterruptGates() throws {
        try Self.expectPass("""
            lidt [idtr]
            mov dword [recover], .after_gp
            mov ax, 0x1233
            mov ds, ax                          ; beyond the GDT: #GP(0x1230)
            jmp fail_gp
        .after_gp:
            cmp dword [last_vector], 13
            CHECK jne, 'a'
            cmp dword [last_error], 0x1230
            CHECK jne, 'b'
            mov dword [recover], .after_de
            xor edx, edx
            xor ecx, ecx
            mov eax, 5
            div ecx                             ; #DE, no error code
            jmp fail_gp
        .after_de:
            cmp dword [last_vector], 0
            CHECK jne, 'c'
            mov dword [recover], .after_ud
            ud2
        .after_ud:
            cmp dword [last_vector], 6
            CHECK jne, 'd'
            int 0x30                            ; software interrupt through a trap gate
            cmp dword [last_vector], 0x30
            CHECK jne, 'e'
            cmp ebx, 0xC0FFEE
            CHECK jne, 'f'
            mov eax, [0x200000]                 ; big flat access still fine
            jmp pass
        fail_gp:
            mov al, 'x'
            jmp fail
        int30:
            mov dword [last_vector], 0x30
            mov ebx, 0xC0FFEE
            iretd
        \(Self.faultRecovery)
        HANDLER 0, 0
        HANDLER 6, 0
        HANDLER 13, 1
        idt:
            GATE h0, 0x8E00
            times 5 dq 0
            GATE h6, 0x8E00
            times 6 dq 0
            GATE h13, 0x8E00
            times 0x30 - 14 dq 0
            GATE int30, 0x8F00
        idt_end:
        """)
    }

    @Test func pagingWithFaultsAndAccessedDirtyBits() throws {
        try Self.expectPass("""
            lidt [idtr]
            ; Page directory at 0x100000, page table at 0x101000: identity map 0-4 MiB,
            ; except linear 0x300000 -> physical 0x5000 (read-only) and 0x301000 not present.
            mov edi, 0x100000
            mov ecx, 2048
            xor eax, eax
            rep stosd
            mov dword [0x100000], 0x101000 | 3
            mov edi, 0x101000
            mov eax, 3
            mov ecx, 1024
        .fill:
            stosd
            add eax, 0x1000
            loop .fill
            mov dword [0x101000 + 0x300 * 4], 0x5000 | 1
            mov dword [0x101000 + 0x301 * 4], 0
            mov dword [0x5000], 0xFEEDF00D
            mov eax, 0x100000
            mov cr3, eax
            mov eax, cr0
            or eax, 0x80010000                  ; PG | WP
            mov cr0, eax
            cmp dword [0x300000], 0xFEEDF00D
            CHECK jne, 'a'
            test dword [0x101000 + 0x300 * 4], 0x20   ; accessed
            CHECK jz, 'b'
            mov dword [recover], .after_np
            mov eax, [0x301004]                 ; not present: #PF code 0, CR2
        .after_np:
            cmp dword [last_error], 0
            CHECK jne, 'c'
            cmp dword [last_cr2], 0x301004
            CHECK jne, 'd'
            mov dword [recover], .after_wp
            mov dword [0x300010], 1             ; read-only with WP: #PF code 3
        .after_wp:
            cmp dword [last_error], 3
            CHECK jne, 'e'
            mov dword [0x200000], 7             ; writable page gets its dirty bit
            test dword [0x101000 + 0x200 * 4], 0x40
            CHECK jz, 'f'
            mov dword [0x101000 + 0x300 * 4], 0x6000 | 3   ; remap; stale until INVLPG
            mov dword [0x6000], 0xABCD
            invlpg [0x300000]
            cmp dword [0x300000], 0xABCD
            CHECK jne, 'g'
            jmp pass
        \(Self.faultRecovery)
        PF_HANDLER
        idt:
            times 14 dq 0
            GATE pf, 0x8E00
        idt_end:
        """)
    }

    @Test func paeAndLargePagesWithUserChecks() throws {
        try Self.expectPass("""
            lidt [idtr]
            ; PAE: PDPT at 0x100000 (entry 0 -> directory 0x101000). The directory maps
            ; 0-2 MiB with one 2 MiB page, 2-4 MiB through a table at 0x102000 whose entry for
            ; linear 0x200000 is a supervisor-only page at physical 0x7000 (64-bit entries).
            mov edi, 0x100000
            mov ecx, 3072
            xor eax, eax
            rep stosd
            mov dword [0x100000], 0x101000 | 1
            mov dword [0x101000], 0x000000 | 0x87      ; 2 MiB, user, writable
            mov dword [0x101008], 0x102000 | 7
            mov dword [0x102000], 0x7000 | 3           ; supervisor only
            mov dword [0x7000], 0x12345678
            mov eax, cr4
            or eax, 0x20                                ; PAE
            mov cr4, eax
            mov eax, 0x100000
            mov cr3, eax
            mov eax, cr0
            or eax, 0x80010000
            mov cr0, eax
            cmp dword [0x200000], 0x12345678
            CHECK jne, 'a'
            test dword [0x101000], 0x20                ; accessed on the 2 MiB PDE
            CHECK jz, 'b'
            mov dword [0x1F0000], 5                     ; dirty on the 2 MiB PDE
            test dword [0x101000], 0x40
            CHECK jz, 'c'
            mov dword [recover], .after_absent
            mov eax, [0x400000]                         ; PDPTE 0, PDE 2 absent: code 0
        .after_absent:
            cmp dword [last_error], 0
            CHECK jne, 'd'
            cmp dword [last_cr2], 0x400000
            CHECK jne, 'e'
            ; Ring 3 touching the supervisor page: #PF with P|U (5), then W (7).
            mov ax, 0x30
            ltr ax
            RING3 0x2, ring3
        ring3:
            mov ax, 0x2B                                ; ring-0 DS was dropped by the IRET
            mov ds, ax
            xor ebx, ebx
            mov dword [recover], .after_user_read
            mov eax, [0x200004]
        .after_user_read:
            cmp dword [last_error], 5
            jne .bad3
            mov dword [recover], .after_user_write
            mov dword [0x200004], 1
        .after_user_write:
            cmp dword [last_error], 7
            jne .bad3
            int 0x30                                    ; back to ring 0 with a verdict in EBX
            .bad3:
            mov ebx, 1
            int 0x30
        back0:
            add esp, 20
            test ebx, ebx
            CHECK jnz, 'f'
            jmp pass
        \(Self.faultRecovery)
        PF_HANDLER
        idt:
            times 14 dq 0
            GATE pf, 0xEE00
            times 0x30 - 15 dq 0
            GATE back0, 0xEE00
        idt_end:
        """)
    }

    @Test func ringThreeAndBackThroughTheTSS() throws {
        try Self.expectPass("""
            lidt [idtr]
            mov ax, 0x30
            ltr ax
            RING3 0x202, user                   ; EFLAGS: IF, IOPL 0
        user:
            mov ax, 0x2B                        ; IRET to ring 3 nulled the ring-0 DS
            mov ds, ax
            mov ax, cs
            and ax, 3
            cmp ax, 3
            jne user_fail
            mov dword [recover], .after_cli
            cli                                 ; CPL 3 > IOPL 0: #GP(0)
        .after_cli:
            int 0x80                            ; DPL-3 gate back to ring 0
        user_fail:
            int 0x81
        syscall:
            cmp dword [last_vector], 13
            CHECK jne, 'a'
            mov eax, [esp + 4]                  ; interrupted CS
            and eax, 3
            cmp eax, 3
            CHECK jne, 'b'
            cmp dword [esp + 12], 0x7000        ; user ESP saved on the ring-0 stack
            CHECK jne, 'c'
            cmp esp, 0x8F00 - 20
            CHECK jne, 'd'
            mov ax, ss
            cmp ax, 0x10
            CHECK jne, 'e'
            jmp pass
        bad_ring:
            mov al, 'r'
            jmp fail
        \(Self.faultRecovery)
        HANDLER 13, 1
        idt:
            times 13 dq 0
            GATE h13, 0x8E00
            times 0x80 - 14 dq 0
            GATE syscall, 0xEE00
            GATE bad_ring, 0xEE00
        idt_end:
        """)
    }

    @Test func x87Arithmetic() throws {
        try Self.expectPass("""
            fninit
            fnstsw ax
            test ax, ax
            CHECK jnz, 'a'
            fnstcw [cw]
            cmp word [cw], 0x037F
            CHECK jne, 'b'
            fld dword [three]
            fld dword [four]
            fmulp st1                           ; 12
            fistp dword [result]
            cmp dword [result], 12
            CHECK jne, 'c'
            fldpi
            fimul dword [million]
            fistp dword [result]                ; round to nearest
            cmp dword [result], 3141593
            CHECK jne, 'd'
            fild dword [two]
            fsqrt
            fmul st0, st0
            fistp dword [result]
            cmp dword [result], 2
            CHECK jne, 'e'
            fld1
            fldz
            fcomip st0, st1                     ; 0 < 1: CF
            CHECK jnb, 'f'
            fcom dword [three]                  ; 1 < 3: C0
            fnstsw ax
            test ah, 1
            CHECK jz, 'g'
            fstp st0
            fxam                                ; empty: C3 and C0
            fnstsw ax
            and ah, 0x45
            cmp ah, 0x41
            CHECK jne, 'h'
            fild qword [big]                    ; 64-bit integers are exact in 80-bit
            fnsave [save]
            fld1
            frstor [save]
            fistp qword [result]
            cmp dword [result], 0x89ABCDEF
            CHECK jne, 'i'
            cmp dword [result + 4], 0x01234567
            CHECK jne, 'j'
            fldz
            fsin
            ftst
            fnstsw ax
            test ah, 0x40                       ; sin 0 = 0: C3
            CHECK jz, 'k'
            fld dword [three]
            fld dword [four]
            fdivr st0, st1                      ; st0 = 3 / 4
            fld1
            fadd st0, st0                       ; 2
            fmulp st1                           ; 1.5
            fistp dword [result]                ; 1.5 rounds to even: 2
            cmp dword [result], 2
            CHECK jne, 'l'
            jmp pass
        align 8
        big: dq 0x0123456789ABCDEF
        three: dd 3.0
        four: dd 4.0
        two: dd 2
        million: dd 1000000
        cw: dw 0
        align 4
        result: dq 0
        save: times 108 db 0
        """)
    }

    @Test func instructionsThisCPUDoesNotHaveRaiseUDAndRDPMCRaisesGP() throws {
        // MMX (0F 6F), SSE (0F 10), SYSENTER (0F 34), UD1 (0F B9): #UD, as on a CPU whose CPUID
        // reports none of them. RDPMC: #GP(0), there are no counters.
        try Self.expectPass("""
            lidt [idtr]
            %macro EXPECT 3                         ; instruction bytes (as a db list), vector, letter
                mov dword [recover], %%after
                mov dword [last_vector], -1
                db %1
                db 0xC0                             ; ModRM: register operands
            %%after:
                cmp dword [last_vector], %2
                CHECK jne, %3
            %endmacro
            EXPECT {0x0F, 0x6F}, 6, 'a'
            EXPECT {0x0F, 0x10}, 6, 'b'
            EXPECT {0x0F, 0xB9}, 6, 'c'
            mov dword [recover], .after_sysenter
            mov dword [last_vector], -1
            sysenter
        .after_sysenter:
            cmp dword [last_vector], 6
            CHECK jne, 'd'
            mov dword [recover], .after_rdpmc
            xor ecx, ecx
            rdpmc
        .after_rdpmc:
            cmp dword [last_vector], 13
            CHECK jne, 'e'
            jmp pass
        \(Self.faultRecovery)
        HANDLER 6, 0
        HANDLER 13, 1
        idt:
            times 6 dq 0
            GATE h6, 0x8E00
            times 6 dq 0
            GATE h13, 0x8E00
        idt_end:
        """)
    }

    @Test func tripleFaultIsReportedNotFatal() throws {
        let outcome = try GuestProgram.run(Self.prelude + """
            lidt [idtr]
            int3                                ; IDT limit 0: #GP, then #DF, then shutdown
            jmp pass
        idtr:
            dw 0
            dd 0
        """)
        guard case .tripleFault(let message) = outcome.exit else {
            Issue.record("expected a triple fault, got \(outcome.exit)")
            return
        }
        #expect(message.contains("0008:"))
        #expect(message.contains("#DF"))
        #expect(!message.contains("triple fault"), "MachineStop says \"triple fault:\" before it: \(message)")
        #expect(!message.contains("64-bit"))
    }

    /// A 64-bit guest (memtest86+ x64) reads EFER to enter long mode, which this CPU refuses
    /// with #GP; with no IDT that ends in a triple fault whose message says why.
    @Test func aGuestEnteringLongModeIsToldItNeedsVirtualize() throws {
        let outcome = try GuestProgram.run(Self.prelude + """
            lidt [idtr]
            mov ecx, 0xC0000080                 ; EFER, as memtest86+ x64 does: read, set LME, write
            rdmsr
            jmp pass
        idtr:
            dw 0
            dd 0
        """)
        guard case .tripleFault(let message) = outcome.exit else {
            Issue.record("expected a triple fault, got \(outcome.exit)")
            return
        }
        #expect(message.contains("64-bit guests need Virtualize mode"), "\(message)")
    }
}
