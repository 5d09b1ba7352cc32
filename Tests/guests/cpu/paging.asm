; CPU self-test guest (Tests/CPUTests/ProtectedModeTests.swift; Tests/scripts/kvm-nested.sh runs it
; under KVM too): two-level paging with WP: accessed and dirty bits, #PF error codes and CR2, INVLPG,
; a #PF while delivering a #GP.
; Prints PASS on port 0xE9, or FAIL and the letter of the failed check.
%include "prelude.inc"
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
    ; A #PF while delivering a contributory fault is delivered next, not a #DF (SDM vol. 3
    ; table 6-5): an IDT whose #GP gate lies on the not-present page 0x301000 and whose #PF
    ; gate starts the present page after it.
    mov eax, [idt + 14 * 8]
    mov [0x302000], eax
    mov eax, [idt + 14 * 8 + 4]
    mov [0x302004], eax
    lidt [split_idtr]
    mov dword [recover], .after_split
    mov ax, 0x1234                      ; an LDT selector without an LDT: #GP
    mov ds, ax
.after_split:
    lidt [idtr]
    cmp dword [last_cr2], 0x302000 - 8
    CHECK jne, 'h'
    cmp dword [last_vector], 14
    CHECK jne, 'i'
    jmp pass
split_idtr:
    dw 15 * 8 - 1
    dd 0x302000 - 14 * 8
%include "fault-recovery.inc"
PF_HANDLER
idt:
    times 14 dq 0
    GATE pf, 0x8E00
idt_end:
