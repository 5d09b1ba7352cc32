; vmtui test guest: a floppy boot sector that cycles through the VGA text modes on each key:
; 40x25 (mode 1), 80x50 (mode 3 with the 8x8 font) and 80x25 (mode 3), printing which one it is
; in, a line on the last row, and in 80x25 CP437 box drawing and a blinking attribute.
; Build: nasm -f bin -o text-modes-cycle.img text-modes-cycle.asm (scripts/make-test-guests pads it).
bits 16
org 0x7C00

start:
    cli
    xor ax, ax
    mov ds, ax
    mov ss, ax
    mov sp, 0x7C00
    sti
    cld
.cycle:
    mov ax, 0x0001              ; 40x25 colour text
    int 0x10
    mov si, mode40
    mov dh, 24
    call screen
    mov ax, 0x0003              ; 80x25, then the 8x8 font: 50 rows
    int 0x10
    mov ax, 0x1112
    xor bl, bl
    int 0x10
    mov si, mode50
    mov dh, 49
    call screen
    mov ax, 0x0003
    int 0x10
    mov ax, 0x0920 + 0xC9 - 0x20 ; ╔ in white on blue, then ═ and ╗ by teletype after it
    mov bx, 0x001F
    mov cx, 1
    int 0x10
    mov si, mode25
    mov dh, 24
    call screen
    jmp .cycle

; screen: prints the string at SI on the first row and "last row" on row DH, then waits for a key
screen:
    push dx
    call print
    pop dx
    mov ah, 0x02                ; cursor to row DH, column 0
    xor bx, bx
    xor dl, dl
    int 0x10
    mov si, last
    call print
    mov ah, 0x09                ; a blinking (or bright background) cell after it
    mov al, '*'
    mov bx, 0x00CE
    mov cx, 1
    int 0x10
    xor ah, ah
    int 0x16
    ret

%include "bios-print.inc"

mode40: db "vmtui 40x25: press a key", 0
mode50: db "vmtui 80x50: press a key", 0
mode25: db 0xC9, 0xCD, 0xBB, " vmtui 80x25: press a key", 0
last:   db "last row", 0

    times 510 - ($ - $$) db 0
    dw 0xAA55
