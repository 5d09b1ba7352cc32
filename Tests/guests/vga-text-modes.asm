; Boot sector for the platform tests: one VGA text mode per build, then CLI; HLT.
;   -DMODE=50     mode 3 with the 8x8 font (INT 10h AX=1112h): 80x50, a line on row 0 and row 49
;   -DMODE=40     mode 1: 40x25, a line on row 0 and row 24
;   -DMODE=SCROLL mode 3, 50 rows "line NN" written straight to 0xB8000, then the CRTC start
;                 address (0x0C/0x0D) moved to row 20, as Linux scrolls its console
        bits 16
        org 0x7C00
start:
        xor ax, ax
        mov ds, ax
        mov ss, ax
        mov sp, 0x7C00
%ifidn MODE, 50
        mov ax, 0x0003
        int 0x10
        mov ax, 0x1112          ; 8x8 ROM font: 50 rows
        xor bl, bl
        int 0x10
        mov si, top
        call print
        mov dx, 0x3100          ; row 49, column 0
        call print_at
%elifidn MODE, 40
        mov ax, 0x0001
        int 0x10
        mov si, top
        call print
        mov dx, 0x1800          ; row 24
        call print_at
%else
        mov ax, 0x0003
        int 0x10
        mov ax, 0xB800
        mov es, ax
        xor di, di
        xor cx, cx              ; row number
.row:
        mov si, label
        mov ah, 0x07
.label:
        lodsb
        test al, al
        jz .digits
        stosw
        jmp .label
.digits:
        mov al, cl
        aam                     ; AH = tens, AL = units
        add ax, 0x3030
        xchg al, ah
        mov bx, ax
        mov al, bl
        mov ah, 0x07
        stosw
        mov al, bh
        stosw
        add di, 160 - 14        ; next row ("line " + 2 digits = 7 cells)
        inc cx
        cmp cx, 50
        jb .row
        mov dx, 0x3D4           ; start address = row 20 (20 * 80 cells)
        mov ax, ((20 * 80) & 0xFF00) | 0x0C
        out dx, ax
        mov ax, (((20 * 80) & 0xFF) << 8) | 0x0D
        out dx, ax
%endif
        cli
.halt:
        hlt
        jmp .halt

; Prints the bottom line at row DH, column DL.
print_at:
        mov ah, 0x02
        xor bh, bh
        int 0x10
        mov si, bottom
; Prints the NUL-terminated string at SI through teletype.
print:
        lodsb
        test al, al
        jz .ret
        mov ah, 0x0E
        mov bx, 0x0007
        int 0x10
        jmp print
.ret:
        ret

top:    db "top row of the mode", 0
bottom: db "bottom row of the mode", 0
label:  db "line ", 0

        times 510 - ($ - $$) db 0
        dw 0xAA55
