; Boot sector for the platform tests: writes "e9 says hi" to the debug console port 0xE9, then
; either exits through the debug-exit port 0xF4 with EXIT_CODE (nasm -DEXIT_CODE=n) or powers
; off through ACPI: SLP_EN with sleep type 0 (S5) in PM1a_CNT of the PIIX4 PM function, whose
; I/O base it reads from PCI config 00:01.3 register 0x40 as an OS would.
        bits 16
        org 0x7C00
start:
        xor ax, ax
        mov ds, ax
        mov si, msg
        mov dx, 0xE9
.log:
        lodsb
        test al, al
        jz .stop
        out dx, al
        jmp .log
.stop:
%ifdef EXIT_CODE
        mov al, EXIT_CODE
        out 0xF4, al
%else
        mov eax, 0x80000B40     ; bus 0, device 1, function 3, register 0x40 (PMBASE)
        mov dx, 0xCF8
        out dx, eax
        mov dx, 0xCFC
        in eax, dx
        and ax, 0xFFC0
        add ax, 4               ; PM1a_CNT
        mov dx, ax
        mov ax, 0x2000          ; SLP_EN, SLP_TYP 0
        out dx, ax
%endif
        cli
        hlt

msg:    db "e9 says hi", 10, 0

        times 510 - ($ - $$) db 0
        dw 0xAA55
