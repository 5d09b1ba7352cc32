import Testing
@testable import Engine

/// Self-checking nasm guests for protected mode as SeaBIOS and boot loaders use it. Each prints
/// "PASS" on port 0xE9, or "FAIL" and a letter naming the failed check.
@Suite(GuestProgram.needsNASM)
struct ProtectedModeTests {
    /// Shared guest code (Tests/guests/cpu): a GDT (flat 32-bit code/data, 16-bit code, ring-3
    /// code/data, a TSS), the switch into 32-bit protected mode, and PASS/FAIL reporting.
    static let prelude = GuestProgram.source("prelude.inc")

    /// Exception handlers that record the vector (and error code) and resume at [recover]:
    /// `HANDLER vector, has-error-code` defines h<vector> (`PF_HANDLER` a #PF one that also keeps
    /// CR2), `GATE handler, type` is an IDT entry;
    /// the guest lays out its IDT between `idt:` and `idt_end:`, `idtr` points at it.
    static let faultRecovery = GuestProgram.source("fault-recovery.inc")

    static func expectPass(_ body: String, budget: Int = 5_000_000, sourceLocation: SourceLocation = #_sourceLocation) throws {
        try expectPassing(prelude + body, budget: budget, sourceLocation: sourceLocation)
    }

    /// A guest of Tests/guests/cpu, which includes the prelude itself (the nested KVM suite runs it on KVM too).
    static func expectPass(guest name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        try expectPassing(GuestProgram.source(name + ".asm"), budget: 5_000_000, sourceLocation: sourceLocation)
    }

    private static func expectPassing(_ source: String, budget: Int, sourceLocation: SourceLocation) throws {
        let outcome = try GuestProgram.run(source, budget: budget)
        #expect(outcome.output == "PASS", "guest said \(outcome.output.debugDescription), exit \(outcome.exit)\n\(outcome.cpu.registerDump)",
                sourceLocation: sourceLocation)
        #expect(outcome.exit == .haltedForever, sourceLocation: sourceLocation)
    }

    @Test func protectedModeAndBigRealMode() throws {
        try Self.expectPass(guest: "protected-mode")
    }

    /// This CPU model's CPUID (under KVM the host's vendor, KVM's local APIC and MTRRs show).
    @Test func cpuidIsIntelWithoutAPICOrMTRR() throws {
        try Self.expectPass("""
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
        try Self.expectPass(guest: "paging")
    }

    @Test func paeAndLargePagesWithUserChecks() throws {
        try Self.expectPass(guest: "pae-paging")
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
        guard case .shutdown(let message) = outcome.exit else {
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
        guard case .shutdown(let message) = outcome.exit else {
            Issue.record("expected a triple fault, got \(outcome.exit)")
            return
        }
        #expect(message.contains("64-bit guests need Virtualize mode"), "\(message)")
    }
}
