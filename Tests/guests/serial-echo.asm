; Boot sector for the platform tests: reads a line from COM1 by polling (LSR bit 0), shows each
; byte through INT 10h and sends it back uppercased; at CR or LF it prints "Serial got: <line>".
        bits 16
        org 0x7C00
start:
        xor ax, ax
        mov ds, ax
        mov es, ax
        mov si, prompt
        call print
        mov di, line
.byte:
        mov dx, 0x3FD
.poll:
        in al, dx
        test al, 0x01
        jz .poll
        mov dx, 0x3F8
        in al, dx
        cmp al, 10              ; LF from a pipe, CR from a raw terminal
        je .done
        cmp al, 13
        je .done
        cmp di, line + 40
        jae .byte
        stosb
        call putc
        cmp al, 'a'
        jb .send
        cmp al, 'z'
        ja .send
        sub al, 0x20
.send:
        mov ah, al
        mov dx, 0x3FD
.thre:
        in al, dx
        test al, 0x20
        jz .thre
        mov dx, 0x3F8
        mov al, ah
        out dx, al
        jmp .byte
.done:
        mov byte [di], 0
        mov si, got
        call print
        mov si, line
        call print
        cli
        hlt

%include "bios-print.inc"

prompt: db "Serial echo: ", 0
got:    db 13, 10, "Serial got: ", 0

        times 510 - ($ - $$) db 0
        dw 0xAA55
line:
