; A multiboot (v1) kernel in the a.out-kludge form (header address fields, flag bit 16), booted
; by `vmtui run --kernel`. It checks what the multiboot spec promises at entry (EAX magic, 32-bit
; protected mode with paging off, IF clear, A20 on, flat data segments, a zeroed BSS) and prints the boot
; information on COM1:
;   "multiboot ok flags=XXXXXXXX lower=XXXXXXXX upper=XXXXXXXX mmap0=XXXXXXXX loader=NAME cmdline=TEXT"
; or "multiboot FAIL x" (x names the check), then exits through the debug-exit port 0xF4 with
; 0x10 (status 33) or 0x01 (status 3).
        bits 32
        org 0x100000
FLAGS   equ 0x00010003                  ; page-aligned modules, memory info, address fields

header:
        dd 0x1BADB002, FLAGS, -(0x1BADB002 + FLAGS)
        dd header, header, load_end, bss_end, start

start:
        mov esp, stack_top
        mov [info], ebx
        cmp eax, 0x2BADB002
        mov al, 'M'
        jne fail
        mov eax, cr0
        and eax, 0x80000001
        cmp eax, 1                      ; PE on, PG off
        mov al, 'P'
        jne fail
        pushfd
        pop eax
        test eax, 0x200                 ; interrupts off
        mov al, 'I'
        jnz fail
        mov dword [0x7000], 0x5A5A5A5A  ; with A20 off 0x107000 would alias 0x7000
        mov dword [0x107000], 0xA5A5A5A5
        cmp dword [0x7000], 0x5A5A5A5A
        mov al, 'A'
        jne fail
        mov al, 'D'                     ; flat data segments: absolute addresses work
        cmp dword [ds_probe], 0x600DDA7A
        jne fail
        cmp dword [zero_probe], 0       ; the loader zeroes the BSS
        mov al, 'B'
        jne fail

        mov esi, ok_msg
        call puts
        mov ebx, [info]
        mov eax, [ebx]                  ; flags
        call puthex
        mov esi, lower_msg
        call puts
        mov eax, [ebx + 4]              ; mem_lower (KiB)
        call puthex
        mov esi, upper_msg
        call puts
        mov eax, [ebx + 8]              ; mem_upper (KiB)
        call puthex
        mov esi, mmap_msg
        call puts
        mov edi, [ebx + 48]             ; mmap_addr: first entry is {size, base, length, type}
        mov eax, [edi + 20]             ; its type (1 = RAM)
        call puthex
        mov esi, loader_msg
        call puts
        mov esi, [ebx + 64]             ; boot_loader_name
        call puts
        mov esi, cmdline_msg
        call puts
        mov esi, [ebx + 16]             ; cmdline
        call puts
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

; puts: prints the NUL-terminated string at ESI.
puts:
        lodsb
        test al, al
        jz .done
        call putc
        jmp puts
.done:
        ret

; puthex: prints EAX as 8 hex digits.
puthex:
        mov ecx, 8
.digit:
        rol eax, 4
        push eax
        and al, 0x0F
        add al, '0'
        cmp al, '9'
        jbe .print
        add al, 'A' - '0' - 10
.print:
        call putc
        pop eax
        loop .digit
        ret

; putc: sends AL to COM1 once the transmitter is empty.
putc:
        push edx
        push eax
        mov dx, 0x3FD
.wait:
        in al, dx
        test al, 0x20
        jz .wait
        pop eax
        mov dx, 0x3F8
        out dx, al
        pop edx
        ret

ds_probe:    dd 0x600DDA7A
ok_msg:      db "multiboot ok flags=", 0
lower_msg:   db " lower=", 0
upper_msg:   db " upper=", 0
mmap_msg:    db " mmap0=", 0
loader_msg:  db " loader=", 0
cmdline_msg: db " cmdline=", 0
fail_msg:    db "multiboot FAIL "
.what:       db "?", 10, 0
load_end:

        section .bss                    ; not in the file: the loader zeroes it
info:        resd 1
zero_probe:  resd 1
             resb 1024
stack_top:
bss_end:
