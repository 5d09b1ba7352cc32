#!/usr/bin/env bash
# Guest tests of the PC platform through `vmtui run --headless` (release build): SeaBIOS boots
# nasm boot sectors from a 1.44 MB floppy and a raw IDE disk (screen via INT 10h and COM1 both
# checked), INT 16h reads injected keys, a triple fault and a reset loop end with status 1,
# bad firmware and floppy images fail before boot, a `cli; hlt` guest idles the host and stops
# on --timeout and Ctrl-C, and the run options (--serial, --debugcon, --until-text, --timeout,
# --screen-dump, --bios) do what they say.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
VMTUI=${VMTUI:-$ROOT/.build/release/vmtui}
TEST_NAME=$(basename "$0" .sh)
BIOS=/usr/share/seabios/bios-256k.bin

command -v nasm >/dev/null || { echo "SKIP $TEST_NAME: nasm is not installed (apt-get install nasm)"; exit 77; }
[ -f "$BIOS" ] || { echo "SKIP $TEST_NAME: $BIOS is missing (apt-get install seabios)"; exit 77; }
[ -x "$VMTUI" ] || { echo "FAIL $TEST_NAME: $VMTUI is missing (swift build -c release)"; exit 1; }

WORK=$(mktemp -d)
export VMTUI_HOME=$WORK/home
trap 'rm -rf "$WORK"' EXIT
# Assembled guests are cached outside git, keyed by their source and nasm flags.
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/vmtui/test-guests
mkdir -p "$CACHE"
FAILS=0

fail() { echo "FAIL $TEST_NAME: $*"; FAILS=$((FAILS + 1)); }
ok() { echo "ok   $*"; }

# guest NAME SIZE [nasm flags...]: prints the path of NAME.asm assembled and padded to SIZE bytes.
guest() {
    local name=$1 size=$2; shift 2
    local src=$ROOT/Tests/guests/$name.asm key img
    key=$( (cat "$src" "$ROOT"/Tests/guests/*.inc; echo "$* $size") | sha256sum | cut -c1-16)
    img=$CACHE/$name-$key.img
    if [ ! -s "$img" ]; then
        nasm -f bin -i "$ROOT/Tests/guests/" "$@" -o "$img.tmp" "$src"
        truncate -s "$size" "$img.tmp"
        mv "$img.tmp" "$img"
    fi
    echo "$img"
}

# config NAME (floppy|disk) IMAGE: writes a VM config for IMAGE and prints its path.
config() {
    local path=$WORK/$1.json
    if [ "$2" = floppy ]; then
        printf '{"schemaVersion":1,"name":"%s","mode":"emulate","osType":"other","floppyImage":"%s","memoryMiB":32,"cpuCount":1,"disks":[],"bootOrder":["floppy"],"network":{"mode":"none","portForwards":[]},"firmware":{}}\n' "$1" "$3" > "$path"
    else
        printf '{"schemaVersion":1,"name":"%s","mode":"emulate","osType":"other","memoryMiB":32,"cpuCount":1,"disks":[{"path":"%s","format":"raw","interface":"ide"}],"bootOrder":["disk"],"network":{"mode":"none","portForwards":[]},"firmware":{}}\n' "$1" "$3" > "$path"
    fi
    echo "$path"
}

# run CONFIG [options...]: runs vmtui headless with stdin from $STDIN (default /dev/null);
# sets RC, OUT (stdout) and ERR (stderr).
run() {
    local cfg=$1; shift
    set +e
    "$VMTUI" run --config "$cfg" --headless "$@" >"$WORK/out" 2>"$WORK/err" <"${STDIN:-/dev/null}"
    RC=$?
    set -e
    OUT=$(cat "$WORK/out"); ERR=$(cat "$WORK/err")
}

has() { grep -qF -- "$2" <<<"$1"; }
line() { sed -n "$2p" <<<"$1" | sed 's/ *$//'; }

floppy_img=$(guest hello-boot 1474560 -DMEDIUM=floppy)
disk_img=$(guest hello-boot 8388608 -DMEDIUM=disk)
floppy_cfg=$(config floppy floppy "$floppy_img")
disk_cfg=$(config disk disk "$disk_img")

# 1. Floppy: SeaBIOS banner, "Booting from Floppy...", the boot sector's INT 10h and COM1 lines.
run "$floppy_cfg" --serial stdio --until-text "Hello from floppy, DL=00" --timeout 30 \
    --debugcon "$WORK/floppy.log" --screen-dump "$WORK/floppy.screen"
if [ $RC -ne 0 ]; then fail "floppy boot: status $RC: $ERR"; else
    screen=$(cat "$WORK/floppy.screen")
    [[ $(line "$screen" 1) == "SeaBIOS (version "* ]] || fail "floppy: row 1 is '$(line "$screen" 1)', not the SeaBIOS banner"
    [ "$(line "$screen" 2)" = "Booting from Floppy..." ] || fail "floppy: row 2 is '$(line "$screen" 2)'"
    [ "$(line "$screen" 3)" = "Hello from floppy, DL=00" ] || fail "floppy: row 3 is '$(line "$screen" 3)'"
    has "$OUT" "serial hello from floppy" || fail "floppy: COM1 line missing from stdout"
    [ "$(wc -l <"$WORK/floppy.screen")" -eq 25 ] || fail "floppy: screen dump is not 25 rows"
    awk 'length($0) != 80 { bad = 1 } END { exit bad }' "$WORK/floppy.screen" || fail "floppy: screen dump rows are not 80 columns"
    has "$OUT" "$(line "$screen" 3)" || fail "floppy: final screen not printed on stdout"
    has "$(cat "$WORK/floppy.log")" "Booting from 0000:7c00" || fail "floppy: --debugcon lacks the SeaBIOS log"
    [ $FAILS -eq 0 ] && ok "floppy boot: banner, Booting from Floppy, INT 10h and COM1 lines, dump, debugcon"
fi

# 2. Raw hard disk on IDE: booted as drive 0x80.
f=$FAILS
run "$disk_cfg" --serial stdio --until-text "Hello from disk, DL=80" --timeout 30
if [ $RC -ne 0 ]; then fail "disk boot: status $RC: $ERR"; else
    has "$OUT" "Booting from Hard Disk..." || fail "disk: no 'Booting from Hard Disk...'"
    has "$OUT" "Hello from disk, DL=80" || fail "disk: boot sector line missing"
    has "$OUT" "serial hello from disk" || fail "disk: COM1 line missing"
    [ $FAILS -eq $f ] && ok "disk boot: Booting from Hard Disk, DL=80, INT 10h and COM1 lines"
fi

# 3. Keys through INT 16h: typed once the prompt shows, echoed back.
f=$FAILS
run "$(config keys floppy "$(guest keys-int16 1474560)")" --type 'hello World!\n' --type-after "Type keys:" \
    --until-text "Got: hello World!" --timeout 30
if [ $RC -ne 0 ]; then fail "keys: status $RC: $ERR"$'\n'"$OUT"; else
    has "$OUT" "Type keys: hello World!" || fail "keys: the echo while typing is missing"
    [ $FAILS -eq $f ] && ok "INT 16h reads injected keys (with Shift) and echoes them"
fi

# 3b. --serial stdio: stdin reaches COM1 and the guest's replies reach stdout.
f=$FAILS
printf 'ping\n' > "$WORK/ping"
STDIN=$WORK/ping run "$(config serial floppy "$(guest serial-echo 1474560)")" --serial stdio \
    --until-text "Serial got: ping" --timeout 30
if [ $RC -ne 0 ]; then fail "serial input: status $RC: $ERR"$'\n'"$OUT"; else
    has "$OUT" "PING" || fail "serial input: the guest's uppercased reply is not on stdout"
    [ $FAILS -eq $f ] && ok "--serial stdio: stdin to COM1, COM1 to stdout"
fi

# 3c. --serial stdio on a terminal (tmux): keys go to the guest as typed, without local echo, and
# Enter arrives as CR, as with QEMU's -serial stdio; the terminal is restored afterwards.
if command -v tmux >/dev/null; then
    sock=vmtui-platform-$$
    tmux -L "$sock" new-session -d -x 100 -y 40 "stty -a > '$WORK/stty.before'; '$VMTUI' run --config '$WORK/serial.json' --headless --serial stdio --until-text 'Serial got: ping' --timeout 30; echo \$? > '$WORK/tty.rc'; stty -a > '$WORK/stty.after'; sleep 30"
    sleep 2 # vmtui switches the terminal to raw mode within milliseconds of starting
    tmux -L "$sock" send-keys "ping" Enter
    for _ in $(seq 100); do [ -s "$WORK/stty.after" ] && break; sleep 0.1; done
    pane=$(tmux -L "$sock" capture-pane -p)
    tmux -L "$sock" kill-server 2>/dev/null || true
    if [ "$(cat "$WORK/tty.rc" 2>/dev/null)" = 0 ] && grep -q "^PING" <<<"$pane" && ! grep -q "^ping" <<<"$pane" \
        && diff -q "$WORK/stty.before" "$WORK/stty.after" >/dev/null; then
        ok "--serial stdio on a terminal: raw keys, no local echo, terminal restored"
    else fail "--serial stdio on a terminal: status $(cat "$WORK/tty.rc" 2>/dev/null), screen:"$'\n'"$pane"; fi
fi

# 4. --until-text is repeatable: any one of them ends the run.
run "$floppy_cfg" --until-text "no such text" --until-text "DL=00" --timeout 30
[ $RC -eq 0 ] && ok "--until-text repeatable" || fail "--until-text repeatable: status $RC: $ERR"

# 5. --timeout: a guest that never shows the text ends with status 1 and says why.
run "$floppy_cfg" --until-text "never shown" --timeout 3
if [ $RC -eq 1 ] && has "$ERR" "timed out after 3" && has "$OUT" "Hello from floppy"; then ok "--timeout gives status 1"
else fail "--timeout: status $RC, stderr: $ERR"; fi

# 6. Triple fault: reported with the CPU state, status 1, never a hang.
run "$(config triple floppy "$(guest triple-fault 1474560)")" --timeout 30
if [ $RC -eq 1 ] && has "$ERR" "triple fault" && has "$OUT" "vmtui triple-fault guest: faulting now"; then ok "triple fault reported, status 1"
else fail "triple fault: status $RC, stderr: $ERR"; fi

# 7. A guest that resets itself forever: reported as a reset loop, status 1.
run "$(config resets floppy "$(guest reset-loop 1474560)")" --timeout 30
if [ $RC -eq 1 ] && has "$ERR" "reset loop"; then ok "reset loop reported, status 1"
else fail "reset loop: status $RC, stderr: $ERR"; fi

# 7b. ACPI power-off from the guest ends the run cleanly (status 0); port 0xE9 goes to --debugcon.
run "$(config poweroff floppy "$(guest poweroff 1474560)")" --timeout 30 --debugcon "$WORK/e9.log"
if [ $RC -eq 0 ] && grep -q "e9 says hi" "$WORK/e9.log"; then ok "ACPI power-off: status 0; port 0xE9 in --debugcon"
else fail "power-off: status $RC, stderr: $ERR"; fi
# 7c. The debug-exit port 0xF4: value v gives status (v << 1) | 1, as QEMU's isa-debug-exit.
run "$(config exit floppy "$(guest poweroff 1474560 -DEXIT_CODE=3)")" --timeout 30
if [ $RC -eq 7 ]; then ok "debug-exit port: status 7 for 3"; else fail "debug-exit: status $RC, stderr: $ERR"; fi

# 8. Bad firmware and media: clear errors before boot (status 2), naming the file and the fix.
run "$floppy_cfg" --bios "$WORK/nonexistent.bin" --timeout 5
if [ $RC -eq 2 ] && has "$ERR" "$WORK/nonexistent.bin" && has "$ERR" "apt-get install seabios"; then ok "missing BIOS: clear error"
else fail "missing BIOS: status $RC, stderr: $ERR"; fi
head -c 100000 "$BIOS" > "$WORK/short.bin"
run "$floppy_cfg" --bios "$WORK/short.bin" --timeout 5
if [ $RC -eq 2 ] && has "$ERR" "$WORK/short.bin is 100000 bytes" && has "$ERR" "multiple of 64 KiB"; then ok "BIOS of the wrong size: clear error"
else fail "short BIOS: status $RC, stderr: $ERR"; fi
head -c 1000000 "$floppy_img" > "$WORK/odd.img"
run "$(config odd floppy "$WORK/odd.img")" --timeout 5
if [ $RC -eq 2 ] && has "$ERR" "$WORK/odd.img is 1000000 bytes" && has "$ERR" "1474560"; then ok "floppy of the wrong size: clear error"
else fail "odd floppy: status $RC, stderr: $ERR"; fi

# 8b. Two CPUs in Emulate: SeaBIOS finds both (its APs started by INIT/SIPI) and boots.
sed 's/"cpuCount":1/"cpuCount":2/' "$floppy_cfg" > "$WORK/smp.json"
run "$WORK/smp.json" --until-text "DL=00" --timeout 30 --debugcon "$WORK/smp.log"
if [ $RC -eq 0 ] && grep -q "Found 2 cpu(s) max supported 2 cpu(s)" "$WORK/smp.log"; then ok "cpuCount 2: SeaBIOS found 2 CPUs and booted"
else fail "cpuCount 2: status $RC, stderr: $ERR, SeaBIOS: $(grep -a "cpu(s)" "$WORK/smp.log")"; fi
# Virtualize where KVM cannot run (kvm-pvm, no /dev/kvm, no access...): status 2 with the reason and
# the way to run it emulated, before anything starts (no debugcon file); --mode emulate boots it.
sed 's/"mode":"emulate"/"mode":"virtualize"/' "$floppy_cfg" > "$WORK/kvm.json"
run "$WORK/kvm.json" --until-text "DL=00" --timeout 30 --debugcon "$WORK/kvm-debugcon.log"
if [ $RC -eq 2 ] && has "$ERR" "Virtualize: not available here" && has "$ERR" "--mode emulate" && [ ! -e "$WORK/kvm-debugcon.log" ]; then
    ok "virtualize without usable KVM: refused with the reason"
elif [ $RC -eq 0 ] && ! has "$ERR" "not available"; then ok "virtualize: KVM usable here, booted"
else fail "virtualize: status $RC, stderr: $ERR"; fi
run "$WORK/kvm.json" --mode emulate --until-text "DL=00" --timeout 30
if [ $RC -eq 0 ]; then ok "virtualize config with --mode emulate boots"
else fail "--mode emulate: status $RC, stderr: $ERR"; fi

# 9. --bios really replaces the firmware: the 128 KiB SeaBIOS build has no Xen probe line.
if [ -f /usr/share/seabios/bios.bin ]; then
    run "$floppy_cfg" --bios /usr/share/seabios/bios.bin --until-text "DL=00" --timeout 30 --debugcon "$WORK/bios128.log"
    log=$(cat "$WORK/bios128.log")
    if [ $RC -eq 0 ] && has "$log" "SeaBIOS (version" && ! has "$log" "No Xen hypervisor found."; then ok "--bios bios.bin boots"
    else fail "--bios bios.bin: status $RC, stderr: $ERR"; fi
fi

# 10. `cli; hlt`: the host stays idle while the guest waits, and Ctrl-C powers it off.
"$VMTUI" run --config "$floppy_cfg" --headless --serial stdio >"$WORK/idle.out" 2>"$WORK/idle.err" </dev/null &
pid=$!
for _ in $(seq 300); do grep -q "serial hello" "$WORK/idle.out" && break; sleep 0.1; done
if ! grep -q "serial hello" "$WORK/idle.out"; then fail "idle: the guest did not reach cli; hlt"; kill -INT $pid; else
    sleep 0.2 # the screen line follows the serial line
    ticks() { awk '{ print $14 + $15 }' "/proc/$pid/stat"; } # utime + stime
    t0=$(ticks); s0=$(date +%s%N)
    sleep 2
    t1=$(ticks); s1=$(date +%s%N)
    hz=$(getconf CLK_TCK)
    cpu_ms=$(( (t1 - t0) * 1000 / hz )); wall_ms=$(( (s1 - s0) / 1000000 ))
    # Idle means a few percent at most; a busy-waiting host would use ~100%.
    if [ $cpu_ms -le $((wall_ms / 10)) ]; then ok "cli; hlt guest: host used ${cpu_ms} ms CPU in ${wall_ms} ms"
    else fail "cli; hlt guest: host used ${cpu_ms} ms CPU in ${wall_ms} ms"; fi
    kill -INT $pid
fi
set +e; wait $pid; rc=$?; set -e
if [ $rc -eq 130 ] && grep -q "interrupted: powered off" "$WORK/idle.err" && grep -q "Hello from floppy" "$WORK/idle.out"; then
    ok "Ctrl-C powers off (status 130, final screen printed)"
else fail "Ctrl-C: status $rc, stderr: $(cat "$WORK/idle.err")"; fi

# 11. The same halted guest ends on --timeout without Ctrl-C.
start=$(date +%s%N)
run "$floppy_cfg" --timeout 1.5
elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))
if [ $RC -eq 1 ] && [ $elapsed_ms -lt 10000 ] && has "$ERR" "timed out"; then ok "cli; hlt guest stopped by --timeout after ${elapsed_ms} ms"
else fail "cli; hlt --timeout: status $RC after ${elapsed_ms} ms: $ERR"; fi

# 11b. VGA text modes as the screen shows them: 80x50 (8x8 font), 40x25, and the CRTC start
# address moved as Linux scrolls its console.
f=$FAILS
run "$(config vga50 floppy "$(guest vga-text-modes 1474560 -DMODE=50)")" --until-text "bottom row of the mode" --timeout 30 --screen-dump "$WORK/vga50"
{ [ $RC -eq 0 ] && [ "$(wc -l <"$WORK/vga50")" -eq 50 ] && [ "$(sed -n 50p "$WORK/vga50" | sed 's/ *$//')" = "bottom row of the mode" ]; } \
    || fail "80x50: status $RC, $(wc -l <"$WORK/vga50") rows"
run "$(config vga40 floppy "$(guest vga-text-modes 1474560 -DMODE=40)")" --until-text "bottom row of the mode" --timeout 30 --screen-dump "$WORK/vga40"
{ [ $RC -eq 0 ] && [ "$(wc -l <"$WORK/vga40")" -eq 25 ] && awk 'length($0) != 40 { bad = 1 } END { exit bad }' "$WORK/vga40" \
    && [ "$(sed -n 25p "$WORK/vga40" | sed 's/ *$//')" = "bottom row of the mode" ]; } || fail "40x25: status $RC"
run "$(config scroll floppy "$(guest vga-text-modes 1474560 -DMODE=SCROLL)")" --until-text "line 44" --timeout 30 --screen-dump "$WORK/scroll"
{ [ $RC -eq 0 ] && [ "$(sed -n 1p "$WORK/scroll" | sed 's/ *$//')" = "line 20" ] && [ "$(sed -n 25p "$WORK/scroll" | sed 's/ *$//')" = "line 44" ]; } \
    || fail "start address: status $RC, first row '$(head -1 "$WORK/scroll")'"
[ $FAILS -eq $f ] && ok "VGA text: 80x50, 40x25, CRTC start address scrolling"

# 12. Real boot loaders from a raw IDE disk (hybrid ISO images carry an MBR): GRUB's menu, then
# its command line ('c') running a typed command (the output "vmok" differs from the typed
# line, and stays on screen, unlike a menu entry's brief output); memtest86+ started with Enter.
if command -v grub-mkrescue >/dev/null; then
    cp "$("$ROOT/scripts/make-test-media")/grub.iso" "$WORK/grub.raw"
    run "$(config grub disk "$WORK/grub.raw")" --type 'cecho vm${x}ok\n' --type-after "before booting or" \
        --until-text "vmok" --timeout 60
    if [ $RC -eq 0 ] && has "$OUT" 'grub> echo vm${x}ok'; then ok "GRUB from a raw IDE disk: menu, command line, typed command ran"
    else fail "GRUB from disk: status $RC: $ERR"$'\n'"$OUT"; fi
else
    echo "SKIP GRUB from disk: grub-mkrescue is missing (apt-get install grub-pc-bin grub-common xorriso mtools)"
fi
if [ -f /usr/lib/memtest86+/memtest86+ia32.iso ]; then
    cp /usr/lib/memtest86+/memtest86+ia32.iso "$WORK/memtest.raw"
    run "$(config memtest disk "$WORK/memtest.raw")" --type '\n' --type-after "to start testing" \
        --until-text "Status: Testing" --timeout 60
    if [ $RC -eq 0 ]; then ok "memtest86+ from a raw IDE disk: testing"
    else fail "memtest86+ from disk: status $RC: $ERR"$'\n'"$OUT"; fi
else
    echo "SKIP memtest86+ from disk: /usr/lib/memtest86+ is missing (apt-get install memtest86+)"
fi

[ $FAILS -eq 0 ] && echo "PASS $TEST_NAME" || { echo "FAIL $TEST_NAME: $FAILS check(s) failed"; exit 1; }
