; vmtui test guest: a floppy boot sector that echoes the keyboard.
; Prints the banner below through int 10h, then echoes every key (int 16h, enhanced
; functions) to the screen and COM1: Enter as CR LF, Backspace erases, Ctrl+letter as ^X,
; Esc and Tab as <Esc> <Tab>, F1-F12 as <F1>..<F12>, other keys without ASCII as <hex scancode>
; (arrows, Alt+letter). Bytes arriving on COM1 are echoed the same way.
; Build: nasm -f bin -o echo.img echo.asm (scripts/make-test-guests pads it to 1.44 MB).
bits 16
org 0x7C00

COM1 equ 0x3F8

start:
    cli
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov sp, 0x7C00
    sti
    cld
    ; COM1: 115200 baud, 8N1, no interrupts
    mov dx, COM1 + 3
    mov al, 0x80
    out dx, al
    mov dx, COM1
    mov al, 1
    out dx, al
    inc dx
    xor al, al
    out dx, al
    mov dx, COM1 + 3
    mov al, 0x03
    out dx, al
    mov si, banner
    call puts

main:
    mov ah, 0x11            ; enhanced keystroke available?
    int 0x16
    jnz .key
    mov dx, COM1 + 5
    in al, dx
    test al, 1
    jz .wait
    mov dx, COM1
    in al, dx
    cmp al, 0x7F            ; terminals send DEL for Backspace
    jne .serial
    mov al, 0x08
.serial:
    xor ah, ah
    call echo
    jmp main
.wait:
    hlt                     ; the keyboard IRQ or the timer tick wakes us
    jmp main
.key:
    mov ah, 0x10
    int 0x16
    call echo
    jmp main

; echo: AL = ASCII (0 or E0 for keys without one), AH = scancode
echo:
    cmp al, 0x0D
    je .enter
    cmp al, 0x08
    je .backspace
    cmp al, 0x1B
    je .escape
    cmp al, 0x09
    je .tab
    test al, al
    jz .special
    cmp al, 0xE0
    je .special
    cmp al, 0x20
    jb .ctrl
    jmp putc
.enter:
    mov al, 0x0D
    call putc
    mov al, 0x0A
    jmp putc
.backspace:
    mov al, 0x08
    call putc
    mov al, ' '
    call putc
    mov al, 0x08
    jmp putc
.escape:
    mov si, esc_name
    jmp puts
.tab:
    mov si, tab_name
    jmp puts
.ctrl:
    push ax
    mov al, '^'
    call putc
    pop ax
    add al, '@'
    jmp putc
.special:
    mov al, '<'
    call putc
    mov al, ah
    cmp al, 0x3B            ; F1-F10 are 3B-44, F11/F12 85/86
    jb .hex
    cmp al, 0x44
    jbe .fkey
    cmp al, 0x85
    jb .hex
    cmp al, 0x86
    ja .hex
    sub al, 0x85 - 0x45     ; F11/F12 follow F10
.fkey:
    sub al, 0x3A
    push ax
    mov al, 'F'
    call putc
    pop ax
    cmp al, 10
    jb .digit
    push ax
    mov al, '1'
    call putc
    pop ax
    sub al, 10
.digit:
    add al, '0'
    call putc
    jmp .close
.hex:
    push ax
    shr al, 4
    call hexdigit
    pop ax
    and al, 0x0F
    call hexdigit
.close:
    mov al, '>'
    jmp putc

hexdigit:
    add al, '0'
    cmp al, '9'
    jbe putc
    add al, 'A' - '9' - 1
    ; fall through

; putc: AL to the screen (int 10h teletype) and COM1
putc:
    push ax
    push bx
    push dx
    mov ah, 0x0E
    xor bx, bx
    int 0x10
    mov ah, al
    mov dx, COM1 + 5
.ready:
    in al, dx
    test al, 0x20
    jz .ready
    mov dx, COM1
    mov al, ah
    out dx, al
    pop dx
    pop bx
    pop ax
    ret

; puts: the NUL-terminated string at SI
puts:
    lodsb
    test al, al
    jz .done
    call putc
    jmp puts
.done:
    ret

banner:   db "vmtui echo guest ready: type here", 0x0D, 0x0A, 0
esc_name: db "<Esc>", 0
tab_name: db "<Tab>", 0

    times 510 - ($ - $$) db 0
    dw 0xAA55
