; Boot sector for the platform tests: prints a line and pulses the CPU reset line through the
; i8042 (command 0xFE), so SeaBIOS boots it again and again: a reset loop.
        bits 16
        org 0x7C00
start:
        xor ax, ax
        mov ds, ax
        mov si, msg
.print:
        lodsb
        test al, al
        jz .reset
        mov ah, 0x0E
        mov bx, 0x0007
        int 0x10
        jmp .print
.reset:
        mov al, 0xFE
        out 0x64, al
        cli
        hlt

msg:    db "Resetting", 0

        times 510 - ($ - $$) db 0
        dw 0xAA55
