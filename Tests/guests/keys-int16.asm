; Boot sector for the platform tests: prompts "Type keys:", reads keys through INT 16h AH=00h
; and echoes each through INT 10h until Enter, then prints "Got: <line>" and stops.
        bits 16
        org 0x7C00
start:
        xor ax, ax
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov sp, 0x7C00
        sti                     ; INT 16h waits for IRQ1
        mov si, prompt
        call print
        mov di, line
.key:
        xor ah, ah
        int 0x16                ; AL = ASCII, AH = scan code
        cmp al, 13
        je .enter
        cmp di, line + 40
        jae .key
        stosb
        call putc
        jmp .key
.enter:
        mov byte [di], 0
        mov si, crlf
        call print
        mov si, got
        call print
        mov si, line
        call print
        cli
.halt:
        hlt
        jmp .halt

%include "bios-print.inc"

prompt: db "Type keys: ", 0
crlf:   db 13, 10, 0
got:    db "Got: ", 0

        times 510 - ($ - $$) db 0
        dw 0xAA55
line:                           ; the typed line lives past the boot sector
