; Boot sector (from a floppy) for scripts/bench-disk's guest part: COUNT 4 KiB requests through
; INT 13h extended reads and writes (AH=42h/43h) on BIOS disk 0x80, sequential and then in a
; scattered order (each request 7919 blocks after the previous one, wrapping at SECTORS), and
; prints each test's time in BIOS timer ticks (18.2 Hz) on the screen and COM1:
; "seq-read TICKS", "rnd-read TICKS", "seq-write TICKS", "rnd-write TICKS", "bench done".
        bits 16
        org 0x7C00
%ifndef COUNT
%define COUNT 512
%endif
%ifndef SECTORS
%define SECTORS 131072          ; a 64 MiB disk
%endif
start:
        xor ax, ax
        mov ds, ax
        mov ss, ax
        mov sp, 0x7C00
        mov si, seqread
        call bench
        mov si, rndread
        call bench
        mov byte [op], 0x43
        mov si, seqwrite
        call bench
        mov si, rndwrite
        call bench
        mov si, done
        call print
.halt:
        hlt
        jmp .halt

; SI: the test's label; "seq-..." runs in order, "rnd-..." scattered.
bench:
        mov di, si
        call print
        mov dword [step], 8
        cmp byte [di], 's'
        je .timed
        mov dword [step], 7919 * 8
.timed:
        call ticks
        mov [start_ticks], eax
        xor ebx, ebx
        mov bp, COUNT
.next:
        mov [dap.lba], ebx
        mov si, dap
        mov ah, [op]
        xor al, al
        mov dl, 0x80
        int 0x13
        jc .failed
        add ebx, [step]
        cmp ebx, SECTORS
        jb .same
        sub ebx, SECTORS
.same:
        dec bp
        jnz .next
        call ticks
        sub eax, [start_ticks]
        call decimal
        mov al, 13
        call putc
        mov al, 10
        jmp putc
.failed:
        mov si, failed
        call print
        jmp start.halt

; EAX: BIOS ticks since midnight.
ticks:
        xor ah, ah
        int 0x1A
        movzx eax, cx
        shl eax, 16
        mov ax, dx
        ret

; Prints EAX in decimal.
decimal:
        xor cx, cx
        mov ebx, 10
.digit:
        xor edx, edx
        div ebx
        push dx
        inc cx
        test eax, eax
        jnz .digit
.out:
        pop ax
        add al, '0'
        call putc
        loop .out
        ret

print:
        lodsb
        test al, al
        jz .done
        call putc
        jmp print
.done:
        ret

; The character in AL on the screen (INT 10h) and COM1.
putc:
        pusha
        mov dx, 0x3F8
        out dx, al
        mov ah, 0x0E
        mov bx, 0x0007
        int 0x10
        popa
        ret

op:       db 0x42
step:     dd 8
start_ticks: dd 0
seqread:  db "seq-read ", 0
rndread:  db "rnd-read ", 0
seqwrite: db "seq-write ", 0
rndwrite: db "rnd-write ", 0
done:     db "bench done", 13, 10, 0
failed:   db "bench: disk error", 13, 10, 0
dap:      db 16, 0
          dw 8                  ; one 4 KiB request
          dw 0, 0x1000          ; buffer 1000:0000
.lba:     dd 0, 0
times 510-($-$$) db 0
dw 0xAA55
