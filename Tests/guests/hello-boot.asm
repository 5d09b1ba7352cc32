; Boot sector for the platform tests: writes "serial hello from MEDIUM" to COM1, then prints
; "Hello from MEDIUM, DL=xx" through INT 10h teletype (so the serial line is out once the
; screen shows it), then stops with CLI; HLT: the idle and Ctrl-C tests use that state.
; Assemble with: nasm -f bin -DMEDIUM=floppy (or disk) hello-boot.asm
%ifndef MEDIUM
%define MEDIUM floppy
%endif
%defstr MEDIUM_STR MEDIUM

        bits 16
        org 0x7C00
start:
        cli
        xor ax, ax
        mov ds, ax
        mov ss, ax
        mov sp, 0x7C00
        mov [drive], dl
        ; COM1 at 0x3F8: 8N1; wait for THR empty (LSR bit 5) before each byte.
        mov dx, 0x3FB
        mov al, 0x03
        out dx, al
        mov si, serial_msg
.serial:
        lodsb
        test al, al
        jz .screen
        mov ah, al
        mov dx, 0x3FD
.wait:
        in al, dx
        test al, 0x20
        jz .wait
        mov dx, 0x3F8
        mov al, ah
        out dx, al
        jmp .serial
.screen:
        mov si, screen_msg
        call print
        mov al, [drive]
        shr al, 4
        call hex_digit
        mov al, [drive]
        and al, 0x0F
        call hex_digit
        mov al, 13
        call putc
        mov al, 10
        call putc
.done:
        cli
.halt:
        hlt
        jmp .halt

%include "bios-print.inc"

hex_digit:
        add al, '0'
        cmp al, '9'
        jbe putc
        add al, 'A' - '9' - 1
        jmp putc

screen_msg: db "Hello from ", MEDIUM_STR, ", DL=", 0
serial_msg: db "serial hello from ", MEDIUM_STR, 13, 10, 0
drive:      db 0

        times 510 - ($ - $$) db 0
        dw 0xAA55
