; Boot sector for the platform tests: prints a line, loads an empty IDT and raises an
; interrupt. The INT is beyond the IDT limit (#GP), so is #GP (#DF), so is #DF: a triple fault.
        bits 16
        org 0x7C00
start:
        xor ax, ax
        mov ds, ax
        mov si, msg
.print:
        lodsb
        test al, al
        jz .fault
        mov ah, 0x0E
        mov bx, 0x0007
        int 0x10
        jmp .print
.fault:
        cli
        lidt [empty_idt]
        int 0x21
        hlt

empty_idt: dw 0
           dd 0
msg:    db "About to triple fault", 0

        times 510 - ($ - $$) db 0
        dw 0xAA55
