; Boot sector for the KVM test host: counts its boots in CMOS byte 0x7E (kept across resets),
; prints "cf9 boot N" to COM1 and through INT 10h, and resets the PC through the PIIX3 reset
; control register 0xCF9 until the third boot, which prints "cf9 done" and halts.
        bits 16
        org 0x7C00
start:
        cli
        xor ax, ax
        mov ds, ax
        mov ss, ax
        mov sp, 0x7C00
        mov al, 0x7E
        out 0x70, al
        in al, 0x71
        inc al
        mov [count], al
        mov ah, al
        mov al, 0x7E
        out 0x70, al
        mov al, ah
        out 0x71, al
        add byte [digit], al
        mov dx, 0x3FB
        mov al, 0x03
        out dx, al
        mov si, boot_msg
        call both
        cmp byte [count], 3
        jae .done
        mov dx, 0xCF9
        mov al, 0x02
        out dx, al
        mov al, 0x06 ; reset CPU, hard reset
        out dx, al
.done:
        mov si, done_msg
        call both
        cli
.halt:
        hlt
        jmp .halt

; both: the NUL-terminated string at SI to COM1 and the screen.
both:
        lodsb
        test al, al
        jz .ret
        call putc
        mov ah, al
        mov dx, 0x3FD
.wait:
        in al, dx
        test al, 0x20
        jz .wait
        mov dx, 0x3F8
        mov al, ah
        out dx, al
        jmp both
.ret:
        ret

%include "bios-print.inc"

count:    db 0
boot_msg: db "cf9 boot "
digit:    db "0", 13, 10, 0
done_msg: db "cf9 done", 13, 10, 0
        times 510 - ($ - $$) db 0
        dw 0xAA55
