; CPU self-test guest (Tests/CPUTests/ProtectedModeTests.swift; Tests/scripts/kvm-nested.sh runs it
; under KVM too): PAE paging with a 2 MiB page and a 4 KiB table: accessed/dirty bits on the large page, #PF for a missing entry and for ring 3 touching a supervisor page.
; Prints PASS on port 0xE9, or FAIL and the letter of the failed check.
%include "prelude.inc"
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
%include "fault-recovery.inc"
PF_HANDLER
idt:
    times 14 dq 0
    GATE pf, 0xEE00
    times 0x30 - 15 dq 0
    GATE back0, 0xEE00
idt_end:
