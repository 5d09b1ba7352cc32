#!/bin/sh
# /init of the nested KVM test host (scripts/kvm-test-host packs it): loads kvm_amd, then runs
# QEMU -accel kvm (the reference), vmtui in Virtualize mode and in Emulate on the media in
# /media, printing PASS/FAIL lines per check, TIME (seconds from start) and MIPS lines, and
# powers off.
export PATH=/bin:/usr/bin HOME=/tmp VMTUI_HOME=/tmp/vmtui LC_ALL=C.UTF-8
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
# A heartbeat for kvm-nested.sh, which boots the host again when it stops (QEMU locked up).
( while sleep 20; do echo "ALIVE $(cut -d' ' -f1 /proc/uptime)"; done ) &
pass() { echo "PASS $*"; }
fail() { echo "FAIL $*"; }
up() { cut -d' ' -f1 /proc/uptime; }
since() { awk -v a="$1" -v b="$(up)" 'BEGIN { printf "%.2f", b - a }'; }
# mips NAME SECONDS-SMALL SECONDS-BIG ITERATIONS-SMALL ITERATIONS-BIG: the loop's speed.
mips() {
    awk -v n="$1" -v a="$2" -v b="$3" -v i="$4" -v j="$5" -v k="$(cat /media/bench-per-iteration)" \
        'BEGIN { if (b > a) printf "MIPS %s %.0f\n", n, (j - i) * k / (b - a) / 1e6; else printf "MIPS %s n/a\n", n }'
}

for m in irqbypass kvm ccp kvm-amd; do insmod /modules/$m.ko || fail "insmod $m.ko"; done
if [ -c /dev/kvm ]; then pass "/dev/kvm ready $(up) s after boot"
else fail "/dev/kvm missing: $(dmesg | grep -i -E 'kvm|svm' | tail -3)"; echo "KVM-HOST-DONE"; poweroff -f; fi

# config NAME MODE BOOT [ISO|FLOPPY]: a VM config in /tmp/NAME.json, with $CPUS CPUs (default 1)
# and $MEM MiB (default 128).
config() {
    media=""
    case "$3" in
        cdrom) media="\"bootISO\":\"$4\"," ;;
        floppy) media="\"floppyImage\":\"$4\"," ;;
    esac
    boot=$([ "$3" = none ] && echo "\"disk\"" || echo "\"$3\"") # no disk: SeaBIOS finds nothing to boot
    printf '{"schemaVersion":1,"name":"%s","mode":"%s","osType":"other",%s"memoryMiB":%s,"cpuCount":%s,"disks":[],"bootOrder":[%s],"network":{"mode":"none","portForwards":[]},"firmware":{}}\n' \
        "$1" "$2" "$media" "${MEM:-128}" "${CPUS:-1}" "$boot" > "/tmp/$1.json"
}

# hang_report PID: where each of a hung process's threads is, as the kernel sees it (name,
# state, wait channel, system call with its stack pointer and PC, kernel stack), for a FAIL line
# (the test host has no debugger; the PCs resolve against .build/release/vmtui and /proc/PID/maps).
hang_report() {
    for task in /proc/$1/task/*; do
        echo "  thread $(basename "$task") \"$(cat "$task/comm")\" state $(cut -d' ' -f3 "$task/stat") wchan $(cat "$task/wchan" 2> /dev/null) syscall $(cat "$task/syscall" 2> /dev/null)"
        sed 's/^/      /' "$task/stack" 2> /dev/null
    done
    echo "  maps:"; grep -E "r-xp .*(vmtui|libc)" /proc/$1/maps | sed 's/^/    /'
}

# vmrun NAME [options...]: vmtui run headless; RC, OUT, ERR and SECS (wall time) set. A run
# still going 60 s past its --timeout is hung: reported (hang_report) and killed, RC 124.
vmrun() {
    cfg=$1; shift
    start=$(up)
    limit=$(echo "$@" | sed -n 's/.*--timeout \([0-9]*\).*/\1/p')
    vmtui run --config "/tmp/$cfg.json" --headless "$@" > /tmp/out 2> /tmp/err < /dev/null &
    pid=$!
    rm -f /tmp/hung
    ( sleep $((${limit:-120} + 60))
      kill -0 $pid 2> /dev/null || exit
      touch /tmp/hung
      echo "FAIL vmtui run $cfg hung: still running $(since "$start") s after its start (--timeout ${limit:-none}); its threads:"
      hang_report $pid
      kill -9 $pid ) &
    watchdog=$!
    wait $pid
    RC=$?
    kill $watchdog 2> /dev/null
    [ -f /tmp/hung ] && RC=124
    SECS=$(since "$start")
    OUT=$(cat /tmp/out)
    ERR=$(cat /tmp/err)
}

# The single-CPU checks, then the SMP ones: a boot of this host that died (see kvm-nested.sh)
# during the SMP part is booted again with kvmtest=smp, which runs only that part.
phase=$(sed -n 's/.*kvmtest=\([a-z]*\).*/\1/p' /proc/cmdline)
if [ "$phase" != smp ]; then

# QEMU -accel kvm in this same host, the reference: seconds to SeaBIOS's banner (its debug
# log), to memtest86+'s "Status: Testing" (VGA text memory read through the monitor), and MIPS.
if command -v qemu-system-x86_64 > /dev/null; then
    # qemu NAME SECONDS ARGS...: starts QEMU with a monitor on /tmp/mon.in|out, sets QEMU and START.
    # A monitor command to a QEMU that has gone fails (EPIPE) instead of ending this script.
    trap '' PIPE
    qemu() {
        rm -f /tmp/mon.in /tmp/mon.out /tmp/qemu.log /tmp/vga
        mkfifo /tmp/mon.in /tmp/mon.out
        START=$(up)
        seconds=$2
        shift 2
        timeout "$seconds" qemu-system-x86_64 -accel kvm -m 128 -nodefaults -vga std -display none -no-reboot \
            -bios /usr/share/seabios/bios-256k.bin -chardev file,id=log,path=/tmp/qemu.log \
            -device isa-debugcon,iobase=0x402,chardev=log -monitor pipe:/tmp/mon \
            -device isa-debug-exit,iobase=0xf4,iosize=1 "$@" > /tmp/qemu.out 2>&1 &
        QEMU=$!
        cat /tmp/mon.out > /dev/null &
        exec 3<> /tmp/mon.in # read-write: no wait for QEMU to open its end
    }
    # screen_shows TEXT: QEMU's VGA text page holds TEXT (characters between attribute bytes).
    screen_shows() {
        echo "pmemsave 0xb8000 4000 \"/tmp/vga\"" >&3
        sleep 0.1
        [ -f /tmp/vga ] && tr '\000\n' '  ' < /tmp/vga | sed 's/\(.\)./\1/g' | grep -q "$1"
    }
    # waited SECONDS: true while fewer than SECONDS have passed since QEMU started.
    waited() { [ "$(since "$START" | cut -d. -f1)" -lt "$1" ]; }
    qemu banner 120
    while ! grep -q "SeaBIOS (version" /tmp/qemu.log 2> /dev/null && waited 120; do sleep 0.05; done
    if grep -q "SeaBIOS (version" /tmp/qemu.log 2> /dev/null; then
        pass "qemu -accel kvm: SeaBIOS banner"; echo "TIME qemu-kvm seabios-banner $(since "$START")"
    else fail "qemu -accel kvm: no SeaBIOS banner: $(head -3 /tmp/qemu.out)"; fi
    kill $QEMU 2> /dev/null; exec 3>&-
    for arch in ia32 x64; do
        qemu memtest 120 -cdrom /media/memtest86+$arch.iso
        while ! screen_shows "Status: Testing" && waited 120; do :; done
        if screen_shows "Status: Testing"; then
            pass "qemu -accel kvm: memtest86+ $arch testing"; echo "TIME qemu-kvm memtest-$arch $(since "$START")"
        else fail "qemu -accel kvm: memtest86+ $arch: no Status: Testing"; fi
        kill $QEMU 2> /dev/null; exec 3>&-
    done
    for n in 2000 200000; do
        start=$(up)
        timeout 120 qemu-system-x86_64 -accel kvm -m 32 -nodefaults -display none -no-reboot \
            -drive file=/media/bench-$n.img,if=floppy,format=raw -boot a \
            -device isa-debug-exit,iobase=0xf4,iosize=1 > /dev/null 2>&1
        eval "qemu_$n=$(since "$start")"
    done
    mips qemu-kvm "$qemu_2000" "$qemu_200000" 2000 200000
else
    echo "SKIP qemu -accel kvm: qemu-system-x86_64 not packed"
fi

# SeaBIOS banner and memtest86+ to its test screen, Virtualize (KVM) then Emulate, with seconds
# from start (memtest86+ x64 needs long mode: Virtualize only).
for mode in virtualize emulate; do
    config banner-$mode $mode none
    vmrun banner-$mode --until-text "SeaBIOS (version" --timeout 60
    if [ $RC -eq 0 ]; then pass "$mode: SeaBIOS banner"; echo "TIME $mode seabios-banner $SECS"
    else fail "$mode: SeaBIOS banner: status $RC: $(echo "$ERR" | head -5)"; fi
    for arch in ia32 x64; do
        [ $mode = emulate ] && [ $arch = x64 ] && continue
        iso=/media/memtest86+$arch.iso
        [ -f "$iso" ] || { echo "SKIP memtest86+ $arch: $iso not packed"; continue; }
        config memtest-$arch-$mode $mode cdrom "$iso"
        vmrun memtest-$arch-$mode --until-text "Status: Testing" --timeout 90
        if [ $RC -eq 0 ]; then pass "$mode: memtest86+ $arch testing"; echo "TIME $mode memtest-$arch $SECS"
        else fail "$mode: memtest86+ $arch: status $RC: $(echo "$ERR" | head -5) $(echo "$OUT" | head -10)"; fi
    done
done

# A boot sector printing to VGA and COM1, resetting through 0xCF9 and booting again (three boots).
config cf9 virtualize floppy /media/reset-cf9.img
vmrun cf9 --serial stdio --until-text "cf9 done" --timeout 60
if [ $RC -eq 0 ] && echo "$OUT" | grep -q "cf9 boot 3" && echo "$OUT" | grep -q "cf9 boot 2"; then
    pass "virtualize: boot sector on VGA and COM1, reset through 0xCF9, booted again"; echo "TIME virtualize cf9-three-boots $SECS"
else fail "virtualize: 0xCF9 reset guest: status $RC: $(echo "$ERR" | head -5) $(echo "$OUT" | tail -5)"; fi

# The CPU tests' protected-mode and paging guests: their verdict on port 0xE9 (after SeaBIOS's
# log) must be PASS under KVM as under the interpreter. They stop the machine through port 0xF4.
for guest in protected-mode paging pae-paging; do
    verdicts=""
    for mode in emulate virtualize; do
        config cpu-$guest-$mode $mode floppy /media/cpu-$guest.img
        vmrun cpu-$guest-$mode --debugcon /tmp/debugcon --timeout 120
        echo "TIME $mode cpu-$guest $SECS"
        verdicts="$verdicts $mode=$(tail -n 1 /tmp/debugcon | sed 's/^Booting from 0000:7c00//')"
    done
    if [ "$verdicts" = " emulate=PASS virtualize=PASS" ]; then pass "virtualize: CPU test guest $guest as the interpreter:$verdicts"
    else fail "virtualize: CPU test guest $guest:$verdicts $(echo "$ERR" | head -3)"; fi
done

# A Debian amd64 kernel (the test host's own, packed by kvm-nested.sh with a busybox init) in
# Virtualize: long mode, kvmclock, its init's line on COM1 (and the screen), then it powers off
# (ACPI), which ends the run.
config linux-amd64 virtualize cdrom /media/amd64.iso
vmrun linux-amd64 --serial stdio --timeout 240
line=$(echo "$OUT" | tr -d '\r' | grep -a -m1 "vmtui-amd64 ready")
if [ $RC -eq 0 ] && echo "$line" | grep -q "ready: x86_64, 1 CPU(s), .*clocksource kvm-clock"; then
    pass "virtualize: Debian amd64 kernel: $line"; echo "TIME virtualize linux-amd64-init $SECS"
else fail "virtualize: Debian amd64 kernel: status $RC, '${line:-no ready line}': $(echo "$ERR" | head -3) $(echo "$OUT" | tr -d '\r' | tail -5)"; fi

# The benchmark guest: its loop's MIPS from two sizes (the guest stops through port 0xF4).
for mode in virtualize emulate; do
    big=$([ $mode = virtualize ] && echo 200000 || echo 20000)
    for n in 2000 $big; do
        config bench-$n-$mode $mode floppy /media/bench-$n.img
        vmrun bench-$n-$mode --timeout 120
        eval "t_$n=$SECS"
        grep -q "exit" /tmp/err || fail "$mode: benchmark guest $n: status $RC: $(head -3 /tmp/err)"
    done
    eval "mips vmtui-$mode \$t_2000 \$t_$big 2000 $big"
done

echo "SINGLE-CPU-DONE"
fi

# Two CPUs in Virtualize, a thread per vCPU on KVM's in-kernel local APICs: SeaBIOS starts the
# AP by INIT/SIPI and counts it in its log (before its banner).
CPUS=2 config banner-smp2 virtualize none
vmrun banner-smp2 --until-text "SeaBIOS (version" --debugcon /tmp/bios-smp2.log --timeout 90
if [ $RC -eq 0 ] && grep -q "Found 2 cpu(s) max supported 2 cpu(s)" /tmp/bios-smp2.log; then
    pass "virtualize: SeaBIOS found 2 CPUs"; echo "TIME virtualize seabios-banner-2-cpus $SECS"
else fail "virtualize: SeaBIOS with 2 CPUs: status $RC: $(grep -a "cpu(s)" /tmp/bios-smp2.log || echo 'no CPU line') $(echo "$ERR" | head -3)"; fi

# The SMP guest of Tests/scripts/smp-guest.sh with 2 and 4 CPUs (4 vCPU threads on this host's
# 2) on KVM's local APICs: the APs started again by INIT/SIPI report in, an IPI round trip, the
# APIC timer, the PIT through our IOAPIC (an MSI to KVM), a level-triggered line whose EOI comes
# back as KVM_EXIT_IOAPIC_EOI.
# last_step: the last step the SMP guest started.
last_step() { echo "$OUT" | tr -d '\r' | grep -a "^step" | tail -n 1; }
for cpus in 2 4; do
    CPUS=$cpus config smp-apic-$cpus virtualize none
    vmrun smp-apic-$cpus --kernel /media/smp-apic.bin --serial stdio --timeout 60
    # Seen once in CI, right after this host came back from an RCU stall: the 2-CPU guest waited
    # 60 s at step 4 for an APIC timer interrupt of KVM's own in-kernel APIC. A timeout runs the
    # guest once more, saying so; it must then pass.
    if [ $RC -eq 1 ] && echo "$ERR" | grep -q "timed out"; then
        echo "RETRY virtualize: SMP guest with $cpus CPUs timed out after '$(last_step)'; running it once more"
        vmrun smp-apic-$cpus --kernel /media/smp-apic.bin --serial stdio --timeout 60
    fi
    line=$(echo "$OUT" | tr -d '\r' | grep -a -m1 "smp-apic ")
    map=$(printf '%08X' $(((1 << cpus) - 1)))
    if [ $RC -eq 33 ] && [ "$line" = "smp-apic ok cpus=0000000$cpus map=$map" ]; then
        pass "virtualize: SMP guest with $cpus CPUs (INIT/SIPI, IPI, APIC timer, IOAPIC edge and level)"; echo "TIME virtualize smp-apic-$cpus-cpus $SECS"
    else fail "virtualize: SMP guest with $cpus CPUs: status $RC, guest said '${line:-nothing}' after '$(last_step)': $(echo "$ERR" | head -3)"; fi
done

# A 2-CPU VM as a process of its own: `vmtui show` gives each vCPU thread's CPU use and no MIPS
# (KVM counts no instructions). SeaBIOS finds nothing to boot and waits, so the figures are small.
vmtui create kvm-show --mode virtualize --cpus 2 --memory 64 --disk none --network none > /tmp/out 2>&1
vmtui start kvm-show >> /tmp/out 2>&1
sleep 3
shown=$(vmtui show kvm-show 2>&1)
vmtui stop kvm-show --force > /dev/null 2>&1
if echo "$shown" | grep -qE "^  State +running  up 0:00:[0-9]{2}  2 CPUs  engine CPU [0-9]+%$" \
    && echo "$shown" | grep -qE "^  Per CPU  #0 [0-9]+%  #1 [0-9]+% CPU$"; then
    pass "virtualize: a 2-CPU VM process shows each vCPU thread's CPU use: $(echo "$shown" | grep "Per CPU" | sed 's/^ *//')"
else fail "virtualize: vmtui show of a running 2-CPU VM: $(cat /tmp/out) $shown"; fi

# The project's Linux test guest (Debian i386) with 2 CPUs in Virtualize, its smp scenario
# (Tests/guests/linux/smp.sh, as linux-smp.sh runs it in Emulate): 2 processors, IO-APIC lines,
# local timer interrupts on both, a CPU-bound job on each; its PASS/FAIL lines come on COM1.
CPUS=2 MEM=256 config linux-smp virtualize cdrom /media/linux.iso
vmrun linux-smp --serial stdio --type-after "boot:" --type 'smp\n' --until-text "vmtui-linux scenario smp done" --timeout 300
guest=$(echo "$OUT" | tr -d '\r' | sed 's/ *$//' | awk '!seen[$0]++')
passes=$(echo "$guest" | grep -c "^PASS: ")
guest_fails=$(echo "$guest" | grep "^FAIL: " | tr '\n' ' ')
if [ $RC -eq 0 ] && [ "$passes" -ge 5 ] && [ -z "$guest_fails" ]; then
    pass "virtualize: Linux i386 with 2 CPUs, smp scenario: $passes checks passed; $(echo "$guest" | grep -m1 "vmtui-linux ready")"
    echo "TIME virtualize linux-smp-2-cpus $SECS"
else fail "virtualize: Linux i386 with 2 CPUs: status $RC, $passes PASS lines (5 expected) $guest_fails $(echo "$ERR" | head -3) $(echo "$guest" | tail -8)"; fi

echo "KVM-HOST-DONE"
poweroff -f
