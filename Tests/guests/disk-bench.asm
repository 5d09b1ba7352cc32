; Boot sector (from a floppy) for scripts/bench-disk: disk requests through INT 13h extended
; writes and reads (AH=43h/42h) on BIOS disk 0x80, as SeaBIOS's IDE, AHCI and virtio-blk
; drivers run them. The host times the tests: each starts with its name on a line of COM1
; and ends where the next line starts, so the guest's clock plays no part.
;   seq-write  SEQ requests of 32 KiB from LBA 0 (allocates every cluster of a fresh image)
;   seq-read   the same area read back
;   rnd-read   RND requests of 4 KiB in a scattered order over that area (each 7919 blocks
;              after the previous one, wrapping: every block once per pass, no useful order)
;   rnd-write  the same order, rewriting
; then "bench done" and a write of 0 to the debug-exit port 0xF4 (QEMU's isa-debug-exit, and
; vmtui's), which ends the run. A failed request prints "bench: disk error" and exits with 1.
        bits 16
        org 0x7C00
%ifndef SEQ
%define SEQ 1024                ; 32 MiB
%endif
%ifndef RND
%define RND 4096
%endif
%define AREA (SEQ * 64)         ; sectors written by seq-write: a power of two
start:
        xor ax, ax
        mov ds, ax
        mov ss, ax
        mov sp, 0x7C00
        mov ax, 0x1000          ; the data at 1000:0000, not zeros
        mov es, ax
        xor di, di
        mov cx, 0x8000
        mov al, 0x5A
        rep stosb
        mov byte [op], 0x43
        mov si, seqwrite
        call sequential
        mov byte [op], 0x42
        mov si, seqread
        call sequential
        mov si, rndread
        call scattered
        mov byte [op], 0x43
        mov si, rndwrite
        call scattered
        mov si, done
        call print
        xor al, al
        jmp exit

; SI: the test's name.
sequential:
        call print
        mov word [dap.count], 64
        xor ebx, ebx
        mov bp, SEQ
.next:
        call request
        add ebx, 64
        dec bp
        jnz .next
        ret

scattered:
        call print
        mov word [dap.count], 8
        xor ebx, ebx
        mov bp, RND
.next:
        call request
        add ebx, 7919 * 8
        and ebx, AREA - 1
        dec bp
        jnz .next
        ret

; One request of [dap.count] sectors at LBA EBX.
request:
        mov [dap.lba], ebx
        mov si, dap
        mov ah, [op]
        xor al, al
        mov dl, 0x80
        int 0x13
        jc .failed
        ret
.failed:
        mov si, failed
        call print
        mov al, 1
exit:
        out 0xF4, al
.halt:
        hlt
        jmp .halt

%define PRINT_TO_COM1           ; the host times each test from the COM1 lines
%include "bios-print.inc"

op:       db 0x43
seqwrite: db "seq-write", 13, 10, 0
seqread:  db "seq-read", 13, 10, 0
rndread:  db "rnd-read", 13, 10, 0
rndwrite: db "rnd-write", 13, 10, 0
done:     db "bench done", 13, 10, 0
failed:   db "bench: disk error", 13, 10, 0
dap:      db 16, 0
.count:   dw 64
          dw 0, 0x1000          ; buffer 1000:0000
.lba:     dd 0, 0
times 510-($-$$) db 0
dw 0xAA55
