#!/usr/bin/env bash
# Virtualize against a real KVM: boots the nested test host (scripts/kvm-test-host) once in
# QEMU's software CPU, whose emulated AMD SVM lets the host's kvm_amd give a real /dev/kvm, and
# reads its PASS/FAIL lines (Tests/scripts/lib/kvm-host-init.sh): vmtui on KVM to the SeaBIOS
# banner, a boot sector printing to VGA and COM1 and resetting through 0xCF9, memtest86+ ia32
# and x64, SeaBIOS finding 2 CPUs, the SMP guest (Tests/guests/smp-apic.asm) with 2 and 4 CPUs,
# the CPU tests' protected-mode and paging guests (same verdict as the interpreter), a Debian
# amd64 kernel to its init, and the Linux test guest's smp scenario with 2 CPUs;
# TIME and MIPS lines measure vmtui Virtualize, Emulate and QEMU -accel kvm in that host.
# Without qemu-system-x86_64 (or nasm, busybox) it prints SKIP and exits 77.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
VMTUI=${VMTUI:-$ROOT/.build/release/vmtui}
TEST_NAME=$(basename "$0" .sh)

command -v qemu-system-x86_64 >/dev/null || { echo "SKIP: $TEST_NAME: qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)"; exit 77; }
command -v nasm >/dev/null || { echo "SKIP: $TEST_NAME: nasm is not installed (apt-get install nasm)"; exit 77; }
command -v xorriso >/dev/null && [ -f /usr/lib/ISOLINUX/isolinux.bin ] || { echo "SKIP: $TEST_NAME: xorriso or isolinux is not installed (apt-get install xorriso isolinux syslinux-common)"; exit 77; }
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
# A Debian amd64 kernel as a guest (the test host's own) on an ISOLINUX CD, with an initramfs of
# busybox whose init says where it runs, on the screen and COM1, and powers off.
kernel=$("$ROOT/scripts/kvm-test-host" --kernel)
mkdir -p "$WORK/amd64/root/bin" "$WORK/amd64/iso/isolinux"
cp /bin/busybox "$WORK/amd64/root/bin/busybox"
cat > "$WORK/amd64/root/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
line="vmtui-amd64 ready: $(uname -m), $(nproc) CPU(s), kernel $(uname -r), clocksource $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource), up $(cut -d' ' -f1 /proc/uptime) s"
echo "$line"; echo "$line" > /dev/ttyS0
poweroff -f
INIT
chmod +x "$WORK/amd64/root/init"
mkdir -p "$WORK/amd64/root/proc" "$WORK/amd64/root/sys" "$WORK/amd64/root/dev"
(cd "$WORK/amd64/root" && find . | cpio -o -H newc --quiet | gzip -1) > "$WORK/amd64/iso/initrd.gz"
cp "$kernel/vmlinuz" "$WORK/amd64/iso/vmlinuz"
printf 'DEFAULT linux\nLABEL linux\n  KERNEL /vmlinuz\n  APPEND initrd=/initrd.gz console=ttyS0 console=tty0 quiet\n' > "$WORK/amd64/iso/isolinux/isolinux.cfg"
"$ROOT/scripts/isolinux-iso" "$WORK/amd64/iso" "$media/amd64.iso"
# The project's Linux test guest (i386), for its smp scenario with 2 CPUs.
if linux=$("$ROOT/scripts/make-linux-media"); then cp "$linux/linux.iso" "$media/linux.iso"
else echo "FAIL $TEST_NAME: scripts/make-linux-media could not build the Linux test guest"; exit 1; fi

# boot_host SECONDS [KERNEL-ARGS]: boots the test host once (console in $WORK/console). Status 0
# when its init finished (KVM-HOST-DONE), 2 when the host died: its kernel reported a soft lockup
# or an RCU stall, or its init's heartbeat (an ALIVE line every 20 s) stopped for 180 s. Else 1
# (QEMU ended, or SECONDS passed). On a loaded machine QEMU's software CPU locked up so: with a
# thread per CPU (MTTCG, QEMU's default) once with both CPUs in soft lockups and once silent, each
# time around vmtui's 2-CPU KVM guests; with one thread for both (thread=single) vmtui's
# memtest86+ x64 stalled in 1 of 3 runs instead, so MTTCG stays.
# no_timer_check: under a loaded host the software CPU is too slow for the kernel's IO-APIC
# timer check, which then panics.
# lockup FILE: the first line of FILE in which the test host's kernel reported a lockup.
lockup() { grep -a -m1 -E "soft lockup|detected stalls" "$1"; }
boot_host() {
    qemu-system-x86_64 -accel tcg -cpu max -m 2G -smp 2 -no-reboot -nographic \
        -kernel "$host/vmlinuz" -initrd "$host/initrd.gz" -append "console=ttyS0 panic=-1 quiet no_timer_check ${2:-}" \
        > "$WORK/console" 2>&1 < /dev/null &
    local qemu=$! start=$SECONDS alive=0 alive_at=$SECONDS beats
    while kill -0 $qemu 2> /dev/null; do
        sleep 5
        beats=$(grep -ac "^ALIVE " "$WORK/console" || true)
        [ "$beats" -ne "$alive" ] && { alive=$beats; alive_at=$SECONDS; }
        if lockup "$WORK/console" > /dev/null || [ $((SECONDS - alive_at)) -ge 180 ]; then
            kill $qemu; wait $qemu; return 2
        fi
        [ $((SECONDS - start)) -lt "$1" ] || { kill $qemu; wait $qemu; return 1; }
    done
    wait $qemu
    grep -aq "KVM-HOST-DONE" "$WORK/console"
}
checks() { grep -aE "^(PASS|FAIL|SKIP|TIME|MIPS|RETRY) |^  " "$1" | tr -d '\r'; }
host=$("$ROOT/scripts/kvm-test-host" "$VMTUI" "$ROOT/Tests/scripts/lib/kvm-host-init.sh" "$media")
start=$SECONDS
set +e
boot_host 1300
rc=$?
# A host that died is booted once more if there is time (scripts/test stops a script at 1500 s):
# for its SMP checks only (kvmtest=smp) when it had finished the single-CPU ones, whose results
# stand (a FAIL there counts), else for everything.
earlier_fails=0
if [ $rc -eq 2 ]; then
    died="the test host died after $((SECONDS - start)) s ($(lockup "$WORK/console" || echo "no heartbeat for 180 s"))"
    mv "$WORK/console" "$WORK/console.1"
    if grep -aq "^SINGLE-CPU-DONE" "$WORK/console.1" && [ $((SECONDS - start)) -lt 1000 ]; then
        echo "RETRY $TEST_NAME: $died in its SMP checks; the single-CPU checks stand, the SMP ones run in a new boot"
        sed '/^SINGLE-CPU-DONE/q' "$WORK/console.1" > "$WORK/single"
        checks "$WORK/single"
        earlier_fails=$(grep -ac "^FAIL " "$WORK/single")
        echo "  (the dead boot's SMP part said:)"
        sed '1,/^SINGLE-CPU-DONE/d' "$WORK/console.1" | checks /dev/stdin | sed 's/^/  /'
        boot_host $((1400 - (SECONDS - start))) kvmtest=smp
        rc=$?
    elif [ $((SECONDS - start)) -lt 600 ]; then
        echo "RETRY $TEST_NAME: $died; everything runs in a new boot. The dead boot said:"
        checks "$WORK/console.1" | sed 's/^/  /'
        boot_host $((1400 - (SECONDS - start)))
        rc=$?
    else
        mv "$WORK/console.1" "$WORK/console"
    fi
fi
set -e
# The checks' lines, and the indented details under a FAIL (a hung run's threads).
checks "$WORK/console" || true
fails=$(( $(grep -ac "^FAIL " "$WORK/console" || true) + earlier_fails ))
if [ $rc -ne 0 ]; then
    locked=$(lockup "$WORK/console" || true)
    echo "FAIL $TEST_NAME: the test host did not finish (status $rc: 2 = it died)${locked:+; its kernel: $locked}; its console ends:"
    tail -n 20 "$WORK/console"
    exit 1
fi
[ "$fails" -eq 0 ] || { echo "FAIL $TEST_NAME: $fails checks failed"; exit 1; }
echo "ok   $TEST_NAME"
