#!/bin/sh
# /init of the nested KVM test host (scripts/kvm-test-host packs it): loads kvm_amd, then runs
# vmtui in Virtualize mode (and Emulate, and QEMU -accel kvm as the reference) on the media in
# /media, printing one PASS/FAIL/TIME line per check, and powers off.
export PATH=/bin:/usr/bin HOME=/tmp VMTUI_HOME=/tmp/vmtui LC_ALL=C.UTF-8
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
pass() { echo "PASS $*"; }
fail() { echo "FAIL $*"; }
up() { cut -d' ' -f1 /proc/uptime; }
since() { awk -v a="$1" -v b="$(up)" 'BEGIN { printf "%.1f", b - a }'; }

for m in irqbypass kvm ccp kvm-amd; do insmod /modules/$m.ko || fail "insmod $m.ko"; done
if [ -c /dev/kvm ]; then pass "/dev/kvm ready $(up) s after boot"
else fail "/dev/kvm missing: $(dmesg | grep -i -E 'kvm|svm' | tail -3)"; echo "KVM-HOST-DONE"; poweroff -f; fi

# First the reference, which needs no vmtui: QEMU -accel kvm in this same host, seconds to SeaBIOS's banner (its debug log).
if command -v qemu-system-x86_64 > /dev/null; then
    start=$(up)
    qemu-system-x86_64 -accel kvm -m 128 -nodefaults -display none -vga std -no-reboot \
        -bios /usr/share/seabios/bios-256k.bin -chardev file,id=log,path=/tmp/qemu.log \
        -device isa-debugcon,iobase=0x402,chardev=log > /tmp/qemu.out 2>&1 &
    qemu=$!
    n=0
    while ! grep -q "SeaBIOS (version" /tmp/qemu.log 2> /dev/null && [ $n -lt 600 ]; do sleep 0.1; n=$((n + 1)); done
    if grep -q "SeaBIOS (version" /tmp/qemu.log 2> /dev/null; then
        pass "qemu -accel kvm: SeaBIOS banner"; echo "TIME qemu-kvm seabios-banner $(since "$start")"
    else fail "qemu -accel kvm: no SeaBIOS banner in 60 s: $(head -3 /tmp/qemu.out)"; fi
    kill $qemu 2> /dev/null
else
    echo "SKIP qemu -accel kvm: qemu-system-x86_64 not packed"
fi

# config NAME MODE BOOT [ISO|FLOPPY]: a VM config in /tmp/NAME.json.
config() {
    media=""
    case "$3" in
        cdrom) media="\"bootISO\":\"$4\"," ;;
        floppy) media="\"floppyImage\":\"$4\"," ;;
    esac
    boot=$([ "$3" = none ] && echo "\"disk\"" || echo "\"$3\"") # no disk: SeaBIOS finds nothing to boot
    printf '{"schemaVersion":1,"name":"%s","mode":"%s","osType":"other",%s"memoryMiB":128,"cpuCount":1,"disks":[],"bootOrder":[%s],"network":{"mode":"none","portForwards":[]},"firmware":{}}\n' \
        "$1" "$2" "$media" "$boot" > "/tmp/$1.json"
}

# vmrun NAME [options...]: vmtui run headless; RC, OUT, ERR and SECS (wall time) set.
vmrun() {
    cfg=$1; shift
    start=$(up)
    vmtui run --config "/tmp/$cfg.json" --headless "$@" > /tmp/out 2> /tmp/err < /dev/null
    RC=$?
    SECS=$(since "$start")
    OUT=$(cat /tmp/out)
    ERR=$(cat /tmp/err)
}

# SeaBIOS banner on the screen: Virtualize (KVM), then Emulate, with seconds from start.
for mode in virtualize emulate; do
    config banner-$mode $mode none
    vmrun banner-$mode --until-text "SeaBIOS (version" --timeout 60
    if [ $RC -eq 0 ]; then pass "$mode: SeaBIOS banner"; echo "TIME $mode seabios-banner $SECS"
    else fail "$mode: SeaBIOS banner: status $RC: $(echo "$ERR" | head -5)"; fi
done

# A boot sector printing to VGA and COM1, resetting through 0xCF9 and booting again (three boots).
config cf9 virtualize floppy /media/reset-cf9.img
vmrun cf9 --serial stdio --until-text "cf9 done" --timeout 120
if [ $RC -eq 0 ] && echo "$OUT" | grep -q "cf9 boot 3" && echo "$OUT" | grep -q "cf9 boot 2"; then
    pass "virtualize: boot sector on VGA and COM1, reset through 0xCF9, booted again"; echo "TIME virtualize cf9-three-boots $SECS"
else fail "virtualize: 0xCF9 reset guest: status $RC: $(echo "$ERR" | head -5) $(echo "$OUT" | tail -5)"; fi

# memtest86+ (32- and 64-bit) to its test screen.
for arch in ia32 x64; do
    iso=/media/memtest86+$arch.iso
    [ -f "$iso" ] || { echo "SKIP memtest86+ $arch: $iso not packed"; continue; }
    config memtest-$arch virtualize cdrom "$iso"
    vmrun memtest-$arch --until-text "Testing" --timeout 120
    if [ $RC -eq 0 ]; then pass "virtualize: memtest86+ $arch testing"; echo "TIME virtualize memtest-$arch $SECS"
    else fail "virtualize: memtest86+ $arch: status $RC: $(echo "$ERR" | head -5) $(echo "$OUT" | head -25 | tail -8)"; fi
done

echo "KVM-HOST-DONE"
poweroff -f
