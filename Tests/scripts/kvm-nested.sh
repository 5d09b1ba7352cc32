#!/usr/bin/env bash
# Virtualize against a real KVM: boots the nested test host (scripts/kvm-test-host) once in
# QEMU's software CPU, whose emulated AMD SVM lets the host's kvm_amd give a real /dev/kvm, and
# reads its PASS/FAIL lines: vmtui on KVM to the SeaBIOS banner, a boot sector printing to VGA
# and COM1 and resetting through 0xCF9, memtest86+ ia32 and x64; QEMU -accel kvm as reference.
# TIME lines give seconds. Without qemu-system-x86_64 it prints SKIP and exits 77.
# Not in scripts/test yet: the host boots, /dev/kvm is ready and QEMU -accel kvm passes, but
# vmtui's own Virtualize run has not yet been seen to reach the SeaBIOS banner there (it hangs).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VMTUI=${VMTUI:-$ROOT/.build/release/vmtui}
TEST_NAME=$(basename "$0" .sh)

command -v qemu-system-x86_64 >/dev/null || { echo "SKIP: $TEST_NAME: qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)"; exit 77; }
command -v nasm >/dev/null || { echo "SKIP: $TEST_NAME: nasm is not installed (apt-get install nasm)"; exit 77; }
[ -x /bin/busybox ] || { echo "SKIP: $TEST_NAME: busybox-static is not installed"; exit 77; }
[ -x "$VMTUI" ] || { echo "FAIL $TEST_NAME: $VMTUI is missing (swift build -c release)"; exit 1; }

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/media"
nasm -f bin -i "$ROOT/Tests/guests/" -o "$WORK/media/reset-cf9.img" "$ROOT/Tests/guests/reset-cf9.asm"
truncate -s 1474560 "$WORK/media/reset-cf9.img"
cp /usr/lib/memtest86+/memtest86+ia32.iso /usr/lib/memtest86+/memtest86+x64.iso "$WORK/media/" 2>/dev/null || true

# no_timer_check: under a loaded host the software CPU is too slow for the kernel's IO-APIC
# timer check, which then panics.
host=$("$ROOT/scripts/kvm-test-host" "$VMTUI" "$ROOT/Tests/scripts/lib/kvm-host-init.sh" "$WORK/media")
set +e
timeout 540 qemu-system-x86_64 -accel tcg -cpu max -m 2G -smp 2 -no-reboot -nographic \
    -kernel "$host/vmlinuz" -initrd "$host/initrd.gz" -append 'console=ttyS0 panic=-1 quiet no_timer_check' \
    > "$WORK/console" 2>&1 < /dev/null
rc=$?
set -e
grep -E "^(PASS|FAIL|SKIP|TIME) " "$WORK/console" | tr -d '\r' || true
fails=$(grep -c "^FAIL " "$WORK/console" || true)
if ! grep -q "KVM-HOST-DONE" "$WORK/console"; then
    echo "FAIL $TEST_NAME: the test host did not finish (qemu status $rc); its console ends:"
    tail -n 20 "$WORK/console"
    exit 1
fi
[ "$fails" -eq 0 ] || { echo "FAIL $TEST_NAME: $fails checks failed"; exit 1; }
echo "ok   $TEST_NAME"
