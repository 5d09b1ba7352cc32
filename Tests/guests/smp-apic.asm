; A multiboot (v1) kernel that checks the local APICs, the IOAPIC and several CPUs, booted by
; `vmtui run --kernel` on a PC with 2 or more CPUs (Tests/scripts/smp-guest.sh). SeaBIOS has
; already started the application processors once and left them halted; this kernel, as Linux
; does, starts them again:
;   1. CPUID.1 has the APIC bit and the logical CPU count, IA32_APIC_BASE says BSP at 0xFEE00000;
;   2. INIT and a startup IPI to all but itself: each AP runs a real-mode trampoline at 0x8000,
;      enters protected mode and reports in (a count, and its APIC ID from CPUID in a bit map);
;   3. an IPI round trip: the BSP sends vector 0x50 to APIC ID 1, whose handler sends 0x40 back;
;   4. the APIC timer: one-shot once, then periodic five times;
;   5. the PIT through the IOAPIC: 8259s masked, IOAPIC pin 2 (IRQ0's override) to vector 0x42;
;   6. a level-triggered IOAPIC line: COM2's THR-empty interrupt on pin 3, which the handler
;      raises again before its EOI, so each next one needs the EOI to reach the IOAPIC and
;      clear remote IRR (under KVM that is KVM_EXIT_IOAPIC_EOI, which needs the GSI routes).
; Prints on COM1 "smp-apic ok cpus=N map=XXXXXXXX" and exits through port 0xF4 with 0x10
; (status 33), or "smp-apic FAIL x at step n" (x names the check, U an unexpected interrupt or
; exception) and exits with 0x01 (status 3). Each step starts with a "step n" line.
        bits 32
        org 0x100000
FLAGS   equ 0x00010003
APIC    equ 0xFEE00000
IOAPIC  equ 0xFEC00000
TRAMP   equ 0x8000                      ; the APs' start: SIPI vector 0x08
SPINS    equ 2000000                     ; spin limit of each wait

header:
        dd 0x1BADB002, FLAGS, -(0x1BADB002 + FLAGS)
        dd header, header, load_end, bss_end, start

start:
        mov esp, stack_top
        lgdt [gdtr]
        jmp 0x08:.flat
.flat:  mov ax, 0x10
        mov ds, ax
        mov es, ax
        mov ss, ax
        call fill_idt
        lidt [idtr]
        mov al, 0xFF                    ; mask the 8259s: SeaBIOS left IRQ0 on, through LINT0
        out 0x21, al
        out 0xA1, al

        push eax
        mov al, '1'
        call step
        pop eax
        mov eax, 1                      ; 1. CPUID and the APIC base
        cpuid
        mov al, 'C'
        test edx, 1 << 9
        jz fail
        shr ebx, 16
        movzx ebx, bl
        mov [cpus], ebx
        mov al, 'N'
        cmp ebx, 2
        jb fail
        mov ecx, 0x1B
        rdmsr
        and eax, 0xFFFFF900
        cmp eax, 0xFEE00900
        mov al, 'B'                     ; (MOV leaves the flags alone)
        jne fail
        mov dword [APIC + 0xF0], 0x1FF  ; software enable, spurious vector 0xFF

        push eax
        mov al, '2'
        call step
        pop eax
        mov esi, trampoline             ; 2. start the APs
        mov edi, TRAMP
        mov ecx, trampoline_end - trampoline
        rep movsb
        mov dword [APIC + 0x310], 0
        mov dword [APIC + 0x300], 0x000C4500    ; INIT, all excluding self
        mov dword [APIC + 0x300], 0x000C4600 | (TRAMP >> 12)  ; startup
        mov ecx, SPINS
.count: mov eax, [ap_count]
        inc eax
        cmp eax, [cpus]
        je .counted
        pause
        loop .count
        mov al, 'S'
        jmp fail
.counted:
        mov eax, 1                      ; every APIC ID 0..cpus-1 reported (the BSP is 0)
        mov ecx, [cpus]
        shl eax, cl
        dec eax
        or dword [ap_map], 1
        cmp [ap_map], eax
        mov al, 'M'
        jne fail

        push eax
        mov al, '3'
        call step
        pop eax
        sti                             ; 3. IPI round trip
        mov dword [APIC + 0x310], 1 << 24
        mov dword [APIC + 0x300], 0x4050        ; fixed, physical, vector 0x50 to APIC ID 1
        mov ecx, SPINS
.reply: cmp dword [reply_hits], 1
        je .replied
        pause
        loop .reply
        mov al, 'I'
        jmp fail
.replied:
        mov al, 'R'
        cmp dword [request_hits], 1
        jne fail

        push eax
        mov al, '4'
        call step
        pop eax
        mov dword [APIC + 0x3E0], 0xB   ; 4. APIC timer: divide by 1
        mov dword [APIC + 0x320], 0x41  ; one-shot, vector 0x41
        mov dword [APIC + 0x380], 1000000
.oneshot:
        hlt
        cmp dword [timer_hits], 1
        jb .oneshot
        mov al, 'O'
        cmp dword [APIC + 0x390], 0
        jne fail
        mov dword [APIC + 0x320], 0x20041       ; periodic
        mov dword [APIC + 0x380], 200000
.periodic:
        hlt
        cmp dword [timer_hits], 6
        jb .periodic
        mov dword [APIC + 0x320], 0x10041       ; masked
        mov dword [APIC + 0x380], 0

        push eax
        mov al, '5'
        call step
        pop eax
        ; 5. the PIT through the IOAPIC (the 8259s are masked)
        mov dword [IOAPIC], 0x15        ; pin 2, destination APIC ID 0
        mov dword [IOAPIC + 0x10], 0
        mov dword [IOAPIC], 0x14        ; vector 0x42, fixed, edge, unmasked
        mov dword [IOAPIC + 0x10], 0x42
        mov al, 0x34                    ; channel 0, mode 2, about 1 kHz
        out 0x43, al
        mov al, 0xA9
        out 0x40, al
        mov al, 0x04
        out 0x40, al
.pit:   hlt
        cmp dword [pit_hits], 3
        jb .pit
        mov dword [IOAPIC + 0x10], 0x10042      ; masked
        cli

        push eax
        mov al, '6'
        call step
        pop eax
        ; 6. a level-triggered line through the IOAPIC
        mov dword [IOAPIC], 0x17        ; pin 3, destination APIC ID 0
        mov dword [IOAPIC + 0x10], 0
        mov dword [IOAPIC], 0x16        ; vector 0x43, fixed, level, unmasked
        mov dword [IOAPIC + 0x10], 0x8043
        mov dx, 0x2FC                   ; COM2's OUT2 gates its interrupt onto IRQ3
        mov al, 0x08
        out dx, al
        mov dx, 0x2F9                   ; THR-empty interrupt on: the line rises
        mov al, 0x02
        out dx, al
        sti
        mov ecx, SPINS
.level: cmp dword [com2_hits], 3
        jae .leveled
        pause
        loop .level
        mov al, 'L'
        jmp fail
.leveled:
        cli
        mov dword [IOAPIC + 0x10], 0x18043      ; masked

        mov esi, ok_msg
        call puts
        mov eax, [cpus]
        call puthex
        mov esi, map_msg
        call puts
        mov eax, [ap_map]
        call puthex
        mov al, 10
        call putc
        mov al, 0x10
        out 0xF4, al
        jmp $

fail:
        mov [fail_msg.what], al
        mov esi, fail_msg
        call puts
        mov al, 0x01
        out 0xF4, al
        jmp $

; Interrupt gates: every vector to `unexpected`, then the handlers this test expects.
fill_idt:
        mov edi, idt
        xor ecx, ecx
.gate:  mov eax, unexpected
        cmp ecx, 0x40
        jne .n41
        mov eax, on_reply
.n41:   cmp ecx, 0x41
        jne .n42
        mov eax, on_timer
.n42:   cmp ecx, 0x42
        jne .n43
        mov eax, on_pit
.n43:   cmp ecx, 0x43
        jne .n50
        mov eax, on_com2
.n50:   cmp ecx, 0x50
        jne .set
        mov eax, on_request
.set:   mov [edi], ax
        mov word [edi + 2], 0x08
        mov word [edi + 4], 0x8E00
        shr eax, 16
        mov [edi + 6], ax
        add edi, 8
        inc ecx
        cmp ecx, 256
        jb .gate
        ret

on_reply:
        inc dword [reply_hits]
        jmp eoi
on_timer:
        inc dword [timer_hits]
        jmp eoi
on_pit:
        inc dword [pit_hits]
        jmp eoi
on_com2:                                ; the level line: lower it, raise it again but the last time
        push eax
        push edx
        mov dx, 0x2FA                   ; reading IIR ends THR empty: the line falls
        in al, dx
        inc dword [com2_hits]
        mov dx, 0x2F9
        xor al, al
        out dx, al
        cmp dword [com2_hits], 3
        jae .last
        mov al, 0x02                    ; THR empty again: the line rises, remote IRR holds it
        out dx, al
.last:  pop edx
        pop eax
        jmp eoi
on_request:                             ; on the AP: answer the BSP
        inc dword [request_hits]
        mov dword [APIC + 0x310], 0
        mov dword [APIC + 0x300], 0x4040
eoi:    mov dword [APIC + 0xB0], 0
        iret

unexpected:
        mov al, 'U'
        jmp fail

; The APs in protected mode: report in, then wait for interrupts.
ap_main:
        mov ax, 0x10
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov eax, 1
        cpuid
        shr ebx, 24
        mov esp, ebx
        shl esp, 10
        add esp, ap_stacks + 1024
        lidt [idtr]
        mov dword [APIC + 0xF0], 0x1FF
        lock bts [ap_map], ebx
        lock inc dword [ap_count]
        sti
.idle:  hlt
        jmp .idle

; step: AL = the step's digit, kept for a FAIL line and printed as "step N" (where a guest that
; hangs, say in a HLT whose interrupt never comes, stopped).
step:
        mov [fail_msg.step], al
        mov [step_msg.digit], al
        push esi
        mov esi, step_msg
        call puts
        pop esi
        ret

; puts: prints the NUL-terminated string at ESI.
puts:
        lodsb
        test al, al
        jz .done
        call putc
        jmp puts
.done:  ret

; puthex: prints EAX as 8 hex digits.
puthex:
        mov ecx, 8
.digit: rol eax, 4
        push eax
        and al, 0x0F
        add al, '0'
        cmp al, '9'
        jbe .print
        add al, 'A' - '0' - 10
.print: call putc
        pop eax
        loop .digit
        ret

; putc: sends AL to COM1 once the transmitter is empty.
putc:
        push edx
        push eax
        mov dx, 0x3FD
.wait:  in al, dx
        test al, 0x20
        jz .wait
        pop eax
        mov dx, 0x3F8
        out dx, al
        pop edx
        ret

; The real-mode start of the APs, copied to TRAMP (position-independent but for TRAMP).
        bits 16
trampoline:
        cli
        xor ax, ax
        mov ds, ax
        o32 lgdt [TRAMP + (tramp_gdtr - trampoline)]
        mov eax, cr0
        or al, 1
        mov cr0, eax
        jmp dword 0x08:ap_main
tramp_gdtr:
        dw gdt_end - gdt - 1
        dd gdt
trampoline_end:
        bits 32

        align 8
gdt:    dq 0
        dq 0x00CF9A000000FFFF           ; 0x08: flat 32-bit code
        dq 0x00CF92000000FFFF           ; 0x10: flat data
gdt_end:
gdtr:   dw gdt_end - gdt - 1
        dd gdt
idtr:   dw 256 * 8 - 1
        dd idt

ok_msg:      db "smp-apic ok cpus=", 0
map_msg:     db " map=", 0
step_msg:    db "step "
.digit:      db "0", 10, 0
fail_msg:    db "smp-apic FAIL "
.what:       db "? at step "
.step:       db "0", 10, 0
load_end:

        section .bss
        alignb 8
idt:         resb 256 * 8
cpus:        resd 1
ap_count:    resd 1
ap_map:      resd 1
reply_hits:  resd 1
request_hits: resd 1
timer_hits:  resd 1
pit_hits:    resd 1
com2_hits:   resd 1
ap_stacks:   resb 1024 * 16
             resb 4096
stack_top:
bss_end:
