; CPU self-test guest (Tests/CPUTests/ProtectedModeTests.swift; Tests/scripts/kvm-nested.sh runs it
; under KVM too): 32-bit protected mode, 16-bit protected mode back to real mode keeping the 4 GiB limit (big real mode), CPUID present, RDTSC counting.
; Prints PASS on port 0xE9, or FAIL and the letter of the failed check.
%include "prelude.inc"
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
    rdtsc
    mov esi, eax
    rdtsc
    cmp eax, esi
    CHECK jbe, 'h'
    jmp pass
