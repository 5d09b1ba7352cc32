; Boot sector for running a CPU self-test guest (org 0x1000, entered in real mode at 0000:1000)
; through SeaBIOS, as Tests/scripts/kvm-nested.sh does under KVM and the interpreter:
; nasm -f bin -dGUEST='"guest.bin"' boot.asm. The guest follows this sector on the floppy;
; the BIOS reads it (at most 17 sectors: the rest of track 0, head 0) to 0x1000.
        bits 16
        org 0x7C00
        cli
        xor ax, ax
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov sp, 0x7C00
        mov ax, 0x0200 + (guest_end - guest + 511) / 512
        mov bx, 0x1000
        mov cx, 0x0002          ; cylinder 0, sector 2 (DL: the boot drive)
        xor dh, dh
        int 0x13
        jc .error
        jmp 0:0x1000
.error:
        mov al, '!'             ; the BIOS could not read the guest
        out 0xE9, al
        hlt
        times 510 - ($ - $$) db 0
        dw 0xAA55
guest:
        incbin GUEST
guest_end:
