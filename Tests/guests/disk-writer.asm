; Boot sector (from a floppy) that writes 0x5A-filled 32 KiB chunks through INT 13h extended
; writes (AH=43h) to BIOS disk 0x80, and to 0x81 as well with -DDRIVES=2, from LBA 0 up to
; CHUNKS chunks (nasm -DCHUNKS=n), printing a dot per chunk. Then "disk writer done", or
; again from LBA 0 for ever with -DFOREVER (the kill -9 test). A failed write prints
; "disk writer: write failed" and halts: a paused VM must never let the guest see one.
        bits 16
        org 0x7C00
%ifndef CHUNKS
%define CHUNKS 256
%endif
%ifndef DRIVES
%define DRIVES 1
%endif
start:
        xor ax, ax
        mov ds, ax
        mov ss, ax
        mov sp, 0x7C00
        mov ax, 0x1000          ; the chunk at 1000:0000
        mov es, ax
        xor di, di
        mov cx, 0x8000
        mov al, 0x5A
        rep stosb
        mov si, banner
        call print
again:
        xor ebx, ebx            ; EBX: LBA of the current chunk
        mov bp, CHUNKS
.chunk:
        mov [dap.lba], ebx
        mov dl, 0x80
        call write
%if DRIVES == 2
        mov dl, 0x81
        call write
%endif
        mov al, '.'
        call putc
        add ebx, 64
        dec bp
        jnz .chunk
%ifdef FOREVER
        jmp again
%else
        mov si, done
        call print
halt:
        hlt
        jmp halt
%endif

write:
        mov si, dap
        mov ah, 0x43
        xor al, al
        int 0x13
        jc .failed
        ret
.failed:
        mov si, failed
        call print
.stop:
        hlt
        jmp .stop

%include "bios-print.inc"

banner: db "disk writer", 13, 10, 0
done:   db 13, 10, "disk writer done", 13, 10, 0
failed: db 13, 10, "disk writer: write failed", 13, 10, 0
dap:    db 16, 0
        dw 64                   ; sectors per chunk
        dw 0, 0x1000            ; buffer 1000:0000
.lba:   dd 0, 0
times 510-($-$$) db 0
dw 0xAA55
