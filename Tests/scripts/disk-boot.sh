#!/usr/bin/env bash
# Boots a hard disk in each image format (raw, qcow2, VDI) from the IDE primary master with the
# release vmtui: a nasm boot sector reads sector 5 through INT 13h (SeaBIOS -> ATA ->
# the storage engine) and prints the text it finds there. Also boots an El Torito ISO in floppy
# emulation (SeaBIOS maps the CD's floppy image to drive 0), and GRUB from an AHCI disk and from a
# virtio-blk disk: grub-mkrescue's image (scripts/make-test-media) is a hybrid whose MBR boots
# GRUB from a hard disk, found by SeaBIOS through the boot order's path for that controller.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
VMTUI=${VMTUI:-$ROOT/.build/release/vmtui}
[ -x "$VMTUI" ] || { echo "FAIL disk-boot: $VMTUI is missing (swift build -c release)"; exit 1; }
command -v nasm >/dev/null || { echo "SKIP disk-boot: nasm is not installed (apt-get install nasm)"; exit 77; }
export VMTUI_HOME=$(mktemp -d)
work=$VMTUI_HOME/work
mkdir -p "$work"
trap 'rm -rf "$VMTUI_HOME"' EXIT
failed=0

cat > "$work/boot.asm" <<'ASM'
org 0x7c00
bits 16
    xor ax, ax
    mov ds, ax
    mov ss, ax
    mov sp, 0x7c00
    mov es, ax
    mov bx, 0x8000          ; CHS read of LBA 5 (cylinder 0, head 0, sector 6) from the boot
    mov ax, 0x0201          ; drive in DL to 0000:8000: works for disks and emulated floppies
    mov cx, 0x0006
    xor dh, dh
    int 0x13
    mov si, failed
    jc print
    mov si, 0x8000
print:
    lodsb
    test al, al
    jz halt
    mov ah, 0x0e
    mov bx, 7
    int 0x10
    jmp print
halt:
    hlt
    jmp halt
failed: db "disk read failed", 0
times 510-($-$$) db 0
dw 0xaa55
ASM
nasm -f bin -o "$work/boot.bin" "$work/boot.asm" || { echo "FAIL disk-boot: nasm"; exit 1; }
dd if=/dev/zero of="$work/disk.raw" bs=1M count=4 status=none
dd if="$work/boot.bin" of="$work/disk.raw" conv=notrunc status=none
printf 'vmtui disk boot: sector 5 read\0' | dd of="$work/disk.raw" bs=512 seek=5 conv=notrunc status=none

for format in raw qcow2 vdi; do
    image=$work/disk.$format
    [ "$format" = raw ] || "$VMTUI" disk convert "$work/disk.raw" "$image" --format "$format" >/dev/null || { echo "FAIL disk-boot: convert to $format"; failed=1; continue; }
    "$VMTUI" create "d$format" --memory 16 --disk "$image" --disk-interface ide --boot disk --network none >/dev/null \
        || { echo "FAIL disk-boot: create d$format"; failed=1; continue; }
    if "$VMTUI" run "d$format" --headless --until-text "sector 5 read" --timeout 30 >"$work/$format.screen" 2>&1; then
        echo "ok $format disk boots and reads through the IDE disk"
    else
        echo "FAIL $format disk boot:"; cat "$work/$format.screen"; failed=1
    fi
done

if media=$("$ROOT/scripts/make-test-media" 2>/dev/null) && [ -s "$media/grub.iso" ]; then
    for interface in sata virtio; do
        cp "$media/grub.iso" "$work/grub-$interface.img"
        "$VMTUI" create "grub$interface" --memory 32 --disk "$work/grub-$interface.img" --disk-interface "$interface" \
            --boot disk --network none >/dev/null || { echo "FAIL disk-boot: create grub$interface"; failed=1; continue; }
        if "$VMTUI" run "grub$interface" --headless --until-text "vmtui GRUB test menu" --timeout 120 \
            >"$work/grub-$interface.screen" 2>&1; then
            echo "ok GRUB boots from a $interface disk"
        else
            echo "FAIL GRUB from a $interface disk:"; cat "$work/grub-$interface.screen"; failed=1
        fi
    done
else
    echo "SKIP GRUB from AHCI and virtio-blk disks: scripts/make-test-media failed (grub-pc-bin, xorriso, mtools?)"
fi

if command -v xorriso >/dev/null; then
    mkdir -p "$work/iso"
    # A 1.44 MB floppy image as the El Torito boot image: SeaBIOS emulates drive 0 from the CD.
    dd if=/dev/zero of="$work/iso/floppy.img" bs=512 count=2880 status=none
    dd if="$work/boot.bin" of="$work/iso/floppy.img" conv=notrunc status=none
    printf 'vmtui floppy emulation: sector 5 read\0' | dd of="$work/iso/floppy.img" bs=512 seek=5 conv=notrunc status=none
    xorriso -as mkisofs -quiet -o "$work/fe.iso" -b floppy.img -c boot.cat "$work/iso" >/dev/null 2>&1
    "$VMTUI" create fe --memory 16 --iso "$work/fe.iso" --network none >/dev/null || failed=1
    if "$VMTUI" run fe --headless --until-text "floppy emulation: sector 5 read" --timeout 30 >"$work/fe.screen" 2>&1; then
        echo "ok El Torito floppy emulation boots from the CD"
    else
        echo "FAIL El Torito floppy emulation:"; cat "$work/fe.screen"; failed=1
    fi
else
    echo "SKIP El Torito floppy emulation: xorriso is not installed"
fi
exit $failed
