; vmtui test guest: a floppy boot sector that acts as an ACPI OS for the power button only.
; It finds PMBASE in the PIIX4 PM function (PCI 00:01.3, config 0x40), enables the power
; button event (PM1 enable bit 8) and ACPI mode (PM1 control SCI_EN), prints that it is armed,
; waits with interrupts off until PM1 status bit 8 latches, clears it, prints that it shuts
; down and enters S5 (SLP_TYP 0 with SLP_EN), which powers the machine off.
; Build: nasm -f bin -o acpi-power-button.img acpi-power-button.asm (scripts/make-test-guests pads it).
bits 16
org 0x7C00

start:
    cli
    xor ax, ax
    mov ds, ax
    mov ss, ax
    mov sp, 0x7C00
    mov eax, 0x80000B40     ; bus 0, device 1, function 3, register 0x40: PMBASE
    mov dx, 0xCF8
    out dx, eax
    mov dx, 0xCFC
    in eax, dx
    and ax, 0xFFC0
    mov bp, ax
    lea dx, [bp + 2]        ; PM1 enable: power button
    mov ax, 0x0100
    out dx, ax
    lea dx, [bp + 4]        ; PM1 control: SCI_EN
    in ax, dx
    or ax, 1
    out dx, ax
    mov si, armed
    call print
    mov dx, bp              ; PM1 status
.wait:
    in ax, dx
    test ax, 0x0100
    jz .wait
    out dx, ax              ; write 1 to clear
    mov si, pressed
    call print
    lea dx, [bp + 4]
    mov ax, 0x2001          ; SLP_EN, sleep type 0 (S5), SCI_EN kept
    out dx, ax
    hlt

%include "bios-print.inc"

armed:   db "vmtui ACPI guest: power button armed", 0x0D, 0x0A, 0
pressed: db "power button pressed: shutting down", 0x0D, 0x0A, 0

    times 510 - ($ - $$) db 0
    dw 0xAA55
