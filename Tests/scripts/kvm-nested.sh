#!/usr/bin/env bash
# Virtualize against a real KVM: boots the nested test host (scripts/kvm-test-host) once in
# QEMU's software CPU, whose emulated AMD SVM lets the host's kvm_amd give a real /dev/kvm, and
# reads its PASS/FAIL lines (Tests/scripts/lib/kvm-host-init.sh): vmtui on KVM to the SeaBIOS
# banner, a boot sector printing to VGA and COM1 and resetting through 0xCF9, memtest86+ ia32
# and x64, SeaBIOS finding 2 CPUs, the SMP guest (Tests/guests/smp-apic.asm) with 2 CPUs, the
# CPU tests' protected-mode and paging guests (same verdict as the interpreter);
# TIME and MIPS lines measure vmtui Virtualize, Emulate and QEMU -accel kvm in that host.
# Without qemu-system-x86_64 (or nasm, busybox) it prints SKIP and exits 77.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
VMTUI=${VMTUI:-$ROOT/.build/release/vmtui}
TEST_NAME=$(basename "$0" .sh)

command -v qemu-system-x86_64 >/dev/null || { echo "SKIP: $TEST_NAME: qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)"; exit 77; }
command -v nasm >/dev/null || { echo "SKIP: $TEST_NAME: nasm is not installed (apt-get install nasm)"; exit 77; }
[ -x /bin/busybox ] || { echo "SKIP: $TEST_NAME: busybox-static is not installed"; exit 77; }
[ -x "$VMTUI" ] || { echo "FAIL $TEST_NAME: $VMTUI is missing (swift build -c release)"; exit 1; }

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
media=$WORK/media
mkdir -p "$media"
floppy() { truncate -s 1474560 "$1"; }
nasm -f bin -i "$ROOT/Tests/guests/" -o "$media/reset-cf9.img" "$ROOT/Tests/guests/reset-cf9.asm"
floppy "$media/reset-cf9.img"
nasm -f bin -o "$media/smp-apic.bin" "$ROOT/Tests/guests/smp-apic.asm"
# The CPU tests' self-checking guests, each behind a boot sector that loads it at 0x1000.
for guest in protected-mode paging pae-paging; do
    nasm -f bin -i "$ROOT/Tests/guests/cpu/" -o "$WORK/$guest.bin" "$ROOT/Tests/guests/cpu/$guest.asm"
    nasm -f bin -dGUEST="\"$WORK/$guest.bin\"" -o "$media/cpu-$guest.img" "$ROOT/Tests/guests/cpu/boot.asm"
    floppy "$media/cpu-$guest.img"
done
# scripts/bench-cpu's guest at two sizes for each CPU (the difference of two runs leaves out
# the boot); the interpreter counts its instructions per outer iteration here, outside.
work=$WORK
eval "$(sed -n '/^make_image()/,/^}/p' "$ROOT/scripts/bench-cpu")"
count() { "$VMTUI" bench cpu --boot-sector "$1" | sed -n 's/^\([0-9]*\) guest instructions.*/\1/p'; }
for n in 2000 20000 200000; do make_image $n "$media/bench-$n.img"; done
echo "$(( ($(count "$media/bench-20000.img") - $(count "$media/bench-2000.img")) / 18000 ))" > "$media/bench-per-iteration"
cp /usr/lib/memtest86+/memtest86+ia32.iso /usr/lib/memtest86+/memtest86+x64.iso "$media/" 2>/dev/null || true

# no_timer_check: under a loaded host the software CPU is too slow for the kernel's IO-APIC
# timer check, which then panics.
host=$("$ROOT/scripts/kvm-test-host" "$VMTUI" "$ROOT/Tests/scripts/lib/kvm-host-init.sh" "$media")
set +e
timeout 900 qemu-system-x86_64 -accel tcg -cpu max -m 2G -smp 2 -no-reboot -nographic \
    -kernel "$host/vmlinuz" -initrd "$host/initrd.gz" -append 'console=ttyS0 panic=-1 quiet no_timer_check' \
    > "$WORK/console" 2>&1 < /dev/null
rc=$?
set -e
# The checks' lines, and the indented details under a FAIL (a hung run's threads).
grep -aE "^(PASS|FAIL|SKIP|TIME|MIPS) |^  " "$WORK/console" | tr -d '\r' || true
fails=$(grep -ac "^FAIL " "$WORK/console" || true)
if ! grep -aq "KVM-HOST-DONE" "$WORK/console"; then
    echo "FAIL $TEST_NAME: the test host did not finish (qemu status $rc); its console ends:"
    tail -n 20 "$WORK/console"
    exit 1
fi
[ "$fails" -eq 0 ] || { echo "FAIL $TEST_NAME: $fails checks failed"; exit 1; }
echo "ok   $TEST_NAME"
