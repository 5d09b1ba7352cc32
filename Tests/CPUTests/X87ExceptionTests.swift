import Testing
@testable import Engine

/// x87 exception flags, #MF, FXSAVE/FXRSTOR: self-checking nasm guests in 32-bit protected
/// mode (ProtectedModeTests.prelude), each printing "PASS" or "FAIL" and a letter.
@Suite struct X87ExceptionTests {
    /// `FLAGS expected, letter`: the status word's exception flags, SF and ES after the code
    /// before it (which starts from FNINIT).
    static let flagsMacro = """
    %macro FLAGS 2
        fnstsw ax
        and ax, 0xFF
        cmp ax, %1
        CHECK jne, %2
    %endmacro

    """

    /// Operands the guests share: the largest and smallest normal extended values, a denormal
    /// one, 2^-70, a 16-byte scratch `t`, and small reals.
    static let operands = """
        align 16
        huge: dw 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0x7FFE
        align 16
        tiny: dw 0, 0, 0, 0x8000, 0x0001
        align 16
        denormal80: dw 0, 0, 0, 0x4000, 0
        align 16
        tiny70: dw 0, 0, 0, 0x8000, 0x3FB9
        align 16
        t: times 16 db 0
        three: dd 3.0
        half: dd 0.5
        two: dd 2

    """

    @Test func eachFlagFromATypicalOperation() throws {
        try ProtectedModeTests.expectPass(Self.flagsMacro + """
            fninit
            fld1
            fldz
            fdivp st1                           ; 1/0: ZE, result +infinity
            FLAGS 0x04, 'a'
            fstp tword [result]
            cmp word [result + 8], 0x7FFF
            CHECK jne, 'b'
            fninit
            fld1
            fchs
            fsqrt                               ; sqrt(-1): IE, the real indefinite
            FLAGS 0x01, 'c'
            fstp tword [result]
            cmp word [result + 8], 0xFFFF
            CHECK jne, 'd'
            cmp dword [result + 4], 0xC0000000
            CHECK jne, 'e'
            fninit
            fld tword [huge]
            fmul st0, st0                       ; overflow: OE and PE
            FLAGS 0x28, 'f'
            fninit
            fld tword [tiny]
            fmul st0, st0                       ; underflow: UE and PE
            FLAGS 0x30, 'g'
            fninit
            fld dword [denormal]                ; a single-precision denormal: DE
            FLAGS 0x02, 'h'
            fninit
            fld tword [denormal80]
            fadd st0, st0                       ; a denormal register operand: DE
            FLAGS 0x02, 'i'
            fninit
            fld1
            fdiv dword [three]                  ; 1/3: PE only
            FLAGS 0x20, 'j'
            fninit
            fild dword [big]
            fistp word [result]                 ; out of range: IE, the integer indefinite
            FLAGS 0x01, 'k'
            cmp word [result], 0x8000
            CHECK jne, 'l'
            fninit
            fld dword [half]
            fistp dword [result]                ; 0.5 rounds to 0: PE
            FLAGS 0x20, 'm'
            fninit
            fld dword [qnan]
            fucom st0                           ; FUCOM with a quiet NaN: no IE, unordered
            fnstsw ax
            and ax, 0x45FF
            cmp ax, 0x4500
            CHECK jne, 'n'
            fcom st0                            ; FCOM: IE
            FLAGS 0x01, 'o'
            fninit
            mov ecx, 8
        .fill:
            fld1
            loop .fill
            fnstsw ax
            test ax, 0xFF
            CHECK jnz, 'p'
            fldpi                               ; a ninth push: stack overflow, C1 = 1
            fnstsw ax
            and ax, 0x2FF
            cmp ax, 0x241
            CHECK jne, 'q'
            fstp tword [result]                 ; the masked response pushed the indefinite
            cmp word [result + 8], 0xFFFF
            CHECK jne, 'r'
            fninit
            fadd st0, st1                       ; empty registers: stack underflow, C1 = 0
            fnstsw ax
            and ax, 0x2FF
            cmp ax, 0x41
            CHECK jne, 's'
            fnclex
            fnstsw ax
            test ax, 0x80FF
            CHECK jnz, 't'
            jmp pass
        \(Self.operands)
        align 4
        denormal: dd 0x00000001
        qnan: dd 0x7FC00000
        big: dd 100000
        result: times 16 db 0
        """)
    }

    /// With CR0.NE = 1 an unmasked exception sets ES and B, leaves the destination alone and is
    /// reported as #MF by the next waiting instruction, not by FNSTSW/FNSTCW/FNCLEX.
    @Test func unmaskedExceptionRaisesMFAtTheNextWaitingInstruction() throws {
        try ProtectedModeTests.expectPass(Self.flagsMacro + """
            lidt [idtr]
            mov eax, cr0
            or eax, 0x20                        ; NE
            mov cr0, eax
            fninit
            fldcw [zm_unmasked]
            fld1
            fldz
        dividing:
            fdivp st1                           ; ZE unmasked: no result, no pop
            fnstsw ax                           ; no-wait: no #MF
            fnstcw [cw]
            cmp dword [mf_count], 0
            CHECK jne, 'a'
            and ax, 0x80FF
            cmp ax, 0x8084                      ; B, ES, ZE
            CHECK jne, 'b'
        faulting:
            fld1                                ; waiting: #MF before it runs
            cmp dword [mf_count], 1
            CHECK jne, 'c'
            cmp dword [mf_eip], faulting
            CHECK jne, 'd'
            cmp word [mf_status], 0x8084 | (6 << 11)
            CHECK jne, 'e'
            cmp dword [env + 12], dividing      ; the handler's FNSTENV: FIP, FCS, FOP (DE F9)
            CHECK jne, 'E'
            cmp dword [env + 16], 0x08 | (0x6F9 << 16)
            CHECK jne, 'F'
            fstp st0                            ; the FLD1 ran after the handler's FNCLEX
            ftst                                ; ST(0) is still 0, ST(1) still 1
            fnstsw ax
            test ah, 0x40
            CHECK jz, 'f'
            fstp st0
            fld1
            fcomp st1
            fnstsw ax
            test ah, 0x40
            CHECK jz, 'g'
            fninit                              ; masked ZE, then FLDCW unmasks it: pending
            fld1
            fldz
            fdivp st1
            FLAGS 0x04, 'h'
            fldcw [zm_unmasked]
            FLAGS 0x84, 'i'
            cmp dword [mf_count], 1
            CHECK jne, 'j'
        waiting:
            fwait                               ; WAIT reports it too
            cmp dword [mf_count], 2
            CHECK jne, 'k'
            cmp dword [mf_eip], waiting
            CHECK jne, 'l'
            fninit
            fldcw [zm_unmasked]
            fld1
            fldz
            fdivp st1
            fnclex                              ; no-wait FNCLEX clears it: nothing pending
            fld1
            fwait
            cmp dword [mf_count], 2
            CHECK jne, 'm'
            fninit                              ; a masked ZE saved, unmasked in memory and
            fld1                                ; restored by FRSTOR: pending again
            fldz
            fdivp st1
            fnsave [save]
            mov word [save], 0x037B
            frstor [save]
            FLAGS 0x84, 'n'
            fwait
            cmp dword [mf_count], 3
            CHECK jne, 'o'
            fninit
            fldcw [om_unmasked]
            fld tword [huge]
            fmul st0, st0                       ; unmasked overflow: exponent wrapped by 2^-24576
            fstp tword [t]                      ; #MF first, then the store
            cmp dword [mf_count], 4
            CHECK jne, 'p'
            cmp word [t + 8], 0x5FFE
            CHECK jne, 'q'
            cmp dword [t], 0xFFFFFFFE
            CHECK jne, 'r'
            fninit
            fldcw [um_unmasked]
            fld tword [tiny]
            fmul dword [half]                   ; exact but tiny: UE, exponent wrapped by 2^24576
            fstp tword [t]
            cmp dword [mf_count], 5
            CHECK jne, 's'
            cmp word [t + 8], 0x6000
            CHECK jne, 't'
            cmp dword [t + 4], 0x80000000
            CHECK jne, 'u'
            fninit
            fldcw [om_unmasked]
            fld tword [huge]
            fadd st0, st0                       ; the same for a sum: 2^16384 wraps to 2^-8192
            fstp tword [t]
            cmp dword [mf_count], 6
            CHECK jne, 'v'
            cmp word [t + 8], 0x1FFF
            CHECK jne, 'w'
            mov eax, cr0                        ; and without CR0.NE nothing is raised either:
            and eax, ~0x20                      ; FERR# goes to the chipset (MachineFERRTests)
            mov cr0, eax
            jmp pass
        mf_handler:
            inc dword [mf_count]
            push eax
            mov eax, [esp + 4]
            mov [mf_eip], eax
            fnstsw [mf_status]
            fnstenv [env]
            fnclex
            pop eax
            iretd
        align 4
        mf_count: dd 0
        mf_eip: dd 0
        mf_status: dw 0
        env: times 28 db 0
        save: times 108 db 0
        om_unmasked: dw 0x0377
        um_unmasked: dw 0x036F
        zm_unmasked: dw 0x037B
        cw: dw 0
        \(Self.operands)
        \(ProtectedModeTests.faultRecovery)
        idt:
            times 16 dq 0
            GATE mf_handler, 0x8E00
        idt_end:
        """)
    }

    /// FCW.PC rounds FADD/FSUB/FMUL/FDIV/FSQRT to 24 or 53 bits by RC (1/3 = 0.AAAA... hex).
    @Test func precisionControl() throws {
        try ProtectedModeTests.expectPass(Self.flagsMacro + """
            %macro QUOTIENT 1                   ; 1/3 under control word %1 into [t]
                fninit
                fldcw [%1]
                fld1
                fdiv dword [three]
                fnstsw [sw]
                fstp tword [t]
            %endmacro
            QUOTIENT pc64
            cmp dword [t], 0xAAAAAAAB           ; 64 bits, to nearest: rounded up
            CHECK jne, 'a'
            QUOTIENT pc53
            FLAGS 0x20, 'b'
            test byte [sw + 1], 2               ; rounded down: C1 clear
            CHECK jnz, 'B'
            cmp dword [t], 0xAAAAA800           ; 53 bits: the dropped 2AB is below half
            CHECK jne, 'c'
            cmp dword [t + 4], 0xAAAAAAAA
            CHECK jne, 'd'
            QUOTIENT pc53up
            cmp dword [t], 0xAAAAB000
            CHECK jne, 'e'
            test byte [sw + 1], 2               ; C1: rounded up
            CHECK jz, 'E'
            QUOTIENT pc24
            cmp dword [t], 0
            CHECK jne, 'f'
            cmp dword [t + 4], 0xAAAAAB00       ; 24 bits: rounded up
            CHECK jne, 'g'
            fninit
            fldcw [pc24]
            fild dword [two]
            fsqrt
            fstp tword [t]
            cmp dword [t + 4], 0xB504F300       ; sqrt 2 = B504F333...
            CHECK jne, 'h'
            fninit
            fldcw [pc24zero]
            fld tword [tiny70]
            fld1
            fsubp st1                           ; 2^-70 - 1 toward zero: -(1 - 2^-24)
            fstp tword [t]
            cmp dword [t + 4], 0xFFFFFF00
            CHECK jne, 'm'
            cmp word [t + 8], 0xBFFE
            CHECK jne, 'n'
            fninit
            fldcw [pc24]
            fld dword [three]
            fmul st0, st0                       ; exact: no PE
            FLAGS 0x00, 'i'
            fninit
            fldcw [pc53zero]
            fld tword [huge]
            fmul st0, st0                       ; overflow toward zero: the largest 53-bit value
            FLAGS 0x28, 'j'
            fstp tword [t]
            cmp dword [t], 0xFFFFF800
            CHECK jne, 'k'
            cmp word [t + 8], 0x7FFE
            CHECK jne, 'l'
            jmp pass
        align 4
        pc64: dw 0x037F
        pc53: dw 0x027F
        pc53up: dw 0x0A7F
        pc53zero: dw 0x0E7F
        pc24: dw 0x007F
        pc24zero: dw 0x0C7F
        sw: dw 0
        \(Self.operands)
        """)
    }

    @Test func fxsaveAndFxrstorRoundTrip() throws {
        try ProtectedModeTests.expectPass("""
            mov eax, 1
            cpuid
            bt edx, 24                          ; FXSR reported
            CHECK jnc, 'a'
            bt edx, 25                          ; SSE not
            CHECK jc, 'b'
            mov eax, cr4
            or eax, 1 << 9                      ; OSFXSR is accepted
            mov cr4, eax
            fninit
            fldcw [control]
            fld1
            fdiv dword [three]                  ; 1/3: PE (masked)
            fstp st0
            mov ecx, 8
        .load:
            mov [value], ecx
        .fild:
            fild dword [value]                  ; ST(0) = 1 ... ST(7) = 8
            loop .load
            fnstsw [status]
            fxsave [area]
            mov ax, [area]
            cmp ax, [control]
            CHECK jne, 'c'
            mov ax, [area + 2]
            cmp ax, [status]
            CHECK jne, 'd'
            cmp byte [area + 4], 0xFF           ; abridged tags: all full
            CHECK jne, 'e'
            cmp dword [area + 24], 0x5A5A5A5A   ; no MXCSR to save: left alone
            CHECK jne, 'f'
            cmp word [area + 6], 0x305          ; FOP of FILD m32 (DB 05)
            CHECK jne, 'F'
            cmp dword [area + 8], .fild         ; FIP, FCS, FDP, FDS
            CHECK jne, 'G'
            cmp dword [area + 12], 0x08
            CHECK jne, 'H'
            cmp dword [area + 16], value
            CHECK jne, 'I'
            cmp dword [area + 20], 0x10
            CHECK jne, 'J'
            cmp dword [area + 36], 0x80000000   ; ST(0) = 1.0: 8000000000000000 3FFF

            CHECK jne, 'g'
            cmp word [area + 40], 0x3FFF
            CHECK jne, 'h'
            fninit
            fxrstor [area]
            fnstcw [value]
            mov ax, [value]
            cmp ax, [control]
            CHECK jne, 'i'
            fnstsw ax
            cmp ax, [status]
            CHECK jne, 'j'
            fnstenv [env]                       ; the pointers came back too
            cmp dword [env + 12], .fild
            CHECK jne, 'K'
            cmp dword [env + 16], 0x08 | (0x305 << 16)
            CHECK jne, 'L'
            cmp dword [env + 20], value
            CHECK jne, 'M'
            fldcw [control]                     ; FNSTENV masked everything
            mov ecx, 1
        .check:
            fistp dword [value]
            cmp [value], ecx
            CHECK jne, 'k'
            inc ecx
            cmp ecx, 9
            jne .check
            fninit                              ; three registers: TOP = 5, tags for 5, 6, 7
            fld1
            fldz
            fldpi
            fxsave [area]
            cmp byte [area + 4], 0xE0
            CHECK jne, 'l'
            mov ax, [area + 2]
            and ax, 0x3800
            cmp ax, 5 << 11
            CHECK jne, 'm'
            fninit
            fxrstor [area]
            fxam                                ; ST(0) = pi: normal
            fnstsw ax
            and ah, 0x45
            cmp ah, 0x04
            CHECK jne, 'n'
            fstp st0
            fstp st0
            fxam                                ; ST(1) was 1.0, now ST(0)
            fstp st0
            fxam                                ; ST(3) is empty: C3 and C0
            fnstsw ax
            and ah, 0x45
            cmp ah, 0x41
            CHECK jne, 'o'
            jmp pass
        align 4
        control: dw 0x0A72                      ; RC up, PC 53 bits, IE/ZE/OE unmasked
        status: dw 0
        value: dd 0
        env: times 28 db 0
        \(Self.operands)
        align 16
        area: times 512 db 0x5A
        """)
    }

    /// A misaligned FXSAVE area is #GP(0); CR0.TS is #NM, CR0.EM #UD; a register operand and the
    /// SSE forms of 0F AE are #UD.
    @Test func fxsaveFaults() throws {
        try ProtectedModeTests.expectPass("""
            lidt [idtr]
            mov dword [recover], .after_gp
            fxsave [area + 8]
            jmp fail_x
        .after_gp:
            cmp dword [last_vector], 13
            CHECK jne, 'a'
            cmp dword [last_error], 0
            CHECK jne, 'b'
            cmp dword [area + 8], 0x5A5A5A5A    ; nothing written
            CHECK jne, 'c'
            mov dword [recover], .after_rstor
            fxrstor [area + 4]
            jmp fail_x
        .after_rstor:
            cmp dword [last_vector], 13
            CHECK jne, 'd'
            mov eax, cr0
            or eax, 8                           ; TS
            mov cr0, eax
            mov dword [recover], .after_nm
            fxsave [area]
            jmp fail_x
        .after_nm:
            cmp dword [last_vector], 7
            CHECK jne, 'e'
            clts
            mov eax, cr0
            or eax, 4                           ; EM
            mov cr0, eax
            mov dword [recover], .after_em
            fxsave [area]
            jmp fail_x
        .after_em:
            cmp dword [last_vector], 6
            CHECK jne, 'f'
            and eax, ~4
            mov cr0, eax
            mov dword [recover], .after_reg
            mov dword [last_vector], -1
            db 0x0F, 0xAE, 0xC0                 ; FXSAVE with a register operand
            jmp fail_x
        .after_reg:
            cmp dword [last_vector], 6
            CHECK jne, 'g'
            mov dword [recover], .after_ldmxcsr
            mov dword [last_vector], -1
            ldmxcsr [area]                      ; SSE: not reported, #UD
            jmp fail_x
        .after_ldmxcsr:
            cmp dword [last_vector], 6
            CHECK jne, 'h'
            fxsave [area]                       ; aligned: fine
            jmp pass
        fail_x:
            mov al, 'x'
            jmp fail
        \(ProtectedModeTests.faultRecovery)
        HANDLER 6, 0
        HANDLER 7, 0
        HANDLER 13, 1
        idt:
            times 6 dq 0
            GATE h6, 0x8E00
            GATE h7, 0x8E00
            times 5 dq 0
            GATE h13, 0x8E00
        idt_end:
        align 16
        area: times 512 db 0x5A
        """)
    }
}
