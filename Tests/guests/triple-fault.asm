; vmtui test guest: a floppy boot sector that prints a line, then triple-faults on purpose:
; with an empty IDT (limit 0) a software interrupt cannot be delivered, nor the #GP
; and #DF that follow, so the CPU shuts down. The TUI must report it and stay alive.
; Build: nasm -f bin -o triple-fault.img triple-fault.asm (scripts/make-test-guests pads it).
bits 16
org 0x7C00

start:
    xor ax, ax
    mov ds, ax
    mov si, message
.print:
    lodsb
    test al, al
    jz .wait
    mov ah, 0x0E
    xor bx, bx
    int 0x10
    jmp .print
.wait:
    mov cx, 8               ; about half a second of timer ticks, so the line can be seen
.tick:
    sti
    hlt
    loop .tick
    cli
    lidt [empty_idt]
    int 0x03
    hlt

empty_idt: dw 0
           dd 0
message:   db "vmtui triple-fault guest: faulting now", 0

    times 510 - ($ - $$) db 0
    dw 0xAA55
