#!/usr/bin/env bash
# Boots the Linux test guest (scripts/make-linux-media: Debian's i386 686 kernel with a busybox
# initramfs) once, as a VM process (`vmtui start`) in Emulate, with its `smoke` scenario
# (Tests/guests/linux/smoke.sh), checks the PASS/FAIL lines the guest prints on COM1, then drives
# the same boot from the command line: `vmtui type` + `vmtui wait` on its tty1 shell, `vmtui
# console` on its ttyS0 shell (through a pty; Ctrl-] leaves), the disk read rate `vmtui list`
# shows while the guest reads its CD, and `vmtui stop`, which the guest answers by powering off
# (busybox acpid). Prints the seconds from power-on to the guest's "vmtui-linux ready" line.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
VMTUI=${VMTUI:-$ROOT/.build/release/vmtui}
TIMEOUT=${LINUX_BOOT_TIMEOUT:-600}
[ -x "$VMTUI" ] || { echo "FAIL linux-guest: $VMTUI is missing (swift build -c release)"; exit 1; }
command -v python3 >/dev/null || { echo "SKIP linux-guest: python3 is missing (it drives vmtui console on a pty)"; exit 77; }
media=$("$ROOT/scripts/make-linux-media") || { echo "FAIL linux-guest: scripts/make-linux-media could not build the guest"; exit 1; }
# A home and run directory of its own: scripts/test runs guest scripts two at a time.
export VMTUI_HOME=$(mktemp -d) XDG_RUNTIME_DIR=$(mktemp -d)
trap '"$VMTUI" stop linux --force >/dev/null 2>&1; rm -rf "$VMTUI_HOME" "$XDG_RUNTIME_DIR"' EXIT
log=$VMTUI_HOME/VMs/linux.vmtui/vm.log

fail() {
    echo "FAIL linux-guest: $*"
    [ -s "$VMTUI_HOME/console" ] && { echo "--- COM1:"; tr -d '\r' <"$VMTUI_HOME/console" | tail -n 40; }
    echo "--- screen:"; "$VMTUI" screen linux 2>&1 | sed 's/ *$//' | grep .
    [ -f "$log" ] && { echo "--- vm.log:"; tail -n 20 "$log"; }
    exit 1
}
ok() { echo "ok linux-guest: $*"; }

# console EXPECT SEND...: runs `vmtui console linux` on a pty (its output in $VMTUI_HOME/console),
# waits for EXPECT after each SEND (a string with \r, or ^] for Ctrl-]), and prints its exit status.
console() {
    python3 - "$VMTUI" "$VMTUI_HOME/console" "$@" <<'PY'
import os, pty, select, sys, time
vmtui, out, steps = sys.argv[1], sys.argv[2], sys.argv[3:]
pid, fd = pty.fork()
if pid == 0:
    os.execv(vmtui, [vmtui, "console", "linux"])
seen = b""
def expect(text, seconds=30):
    global seen
    deadline = time.time() + seconds
    while text.encode() not in seen:
        left = deadline - time.time()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            sys.exit("console: no \"%s\" within %d s" % (text, seconds))
        try: chunk = os.read(fd, 4096)
        except OSError: chunk = b""
        if not chunk: sys.exit("console: ended before \"%s\"" % text)
        seen += chunk
        open(out, "ab").write(chunk)
    seen = seen[seen.index(text.encode()) + len(text):]
expect("connected to linux's COM1 (Ctrl-] leaves)")
for send, text in zip(steps[0::2], steps[1::2]):
    os.write(fd, b"\x1d" if send == "^]" else send.encode().replace(b"\\r", b"\r"))
    expect(text)
_, status = os.waitpid(pid, 0)
print(os.waitstatus_to_exitcode(status))
PY
}

# disk_read_rate: the linux VM's disk read rate (bytes/s) in `vmtui list --json`.
disk_read_rate() {
    "$VMTUI" list --json | python3 -c 'import json, sys; print(next(v for v in json.load(sys.stdin) if v["name"] == "linux").get("diskReadRate", -1))'
}

"$VMTUI" create linux --os linux --memory 256M --iso "$media/linux.iso" --disk none --network none >/dev/null || exit 1
start=$(date +%s.%N)
"$VMTUI" start linux | grep -q "started linux" || fail "vmtui start linux"
"$VMTUI" wait linux "boot:" --timeout 120 || fail "no ISOLINUX boot: prompt"
"$VMTUI" type linux 'smoke\n' || fail "vmtui type at the boot: prompt"
"$VMTUI" wait linux "vmtui-linux scenario smoke done" --timeout "$TIMEOUT" || fail "the smoke scenario did not finish"
done_after=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b - a }')

# COM1 from power-on (the console's scrollback), the ttyS0 shell, Ctrl-] leaves it running.
status=$(console '\r' 'linux# ' 'echo con$((6 * 7))sole\r' 'con42sole' '^]' "left linux's COM1; it keeps running") \
    || fail "vmtui console: $status"
[ "$status" = 0 ] || fail "vmtui console exited with $status"
ok "vmtui console: a command on the guest's ttyS0 shell answered, Ctrl-] left"
tr -d '\r' <"$VMTUI_HOME/console" | sed 's/ *$//' >"$VMTUI_HOME/com1"
ready=$(grep -m1 "vmtui-linux ready" "$VMTUI_HOME/com1")
passes=$(grep -c "^PASS: " "$VMTUI_HOME/com1")
fails=$(grep "^FAIL: " "$VMTUI_HOME/com1")
if [ -z "$ready" ] || [ -n "$fails" ] || [ "$passes" -lt 5 ]; then
    fail "$passes PASS lines (5 expected)${fails:+, $fails}"
fi
grep "^PASS: " "$VMTUI_HOME/com1" | sed 's/^PASS: /ok linux-guest: /'
"$VMTUI" list | grep -qE "^linux +running" || fail "vmtui list does not show linux running after the console left"

# type and wait on the tty1 shell ("i686" shows only once uname answers).
"$VMTUI" type linux 'uname -a\n' || fail "vmtui type"
"$VMTUI" wait linux 'i686' --timeout 30 || fail "vmtui wait did not see uname's i686"
ok "vmtui type 'uname -a\\n', vmtui wait 'i686'"

# The disk read rate: none while the shell idles, some while it reads the CD (the page cache dropped each pass).
sleep 1
idle=$(disk_read_rate)
awk -v r="$idle" 'BEGIN { exit !(r == 0) }' || fail "disk read rate $idle B/s while the guest idles"
"$VMTUI" type linux 'for i in 1 2 3 4 5 6 7 8; do echo 3 >/proc/sys/vm/drop_caches; dd if=/dev/sr0 of=/dev/null bs=64k 2>/dev/null; done; echo reads-done\n'
rate=0
for _ in $(seq 40); do
    rate=$(disk_read_rate)
    awk -v r="$rate" 'BEGIN { exit !(r > 0) }' && break
    sleep 0.5
done
awk -v r="$rate" 'BEGIN { exit !(r > 0) }' || fail "no disk read rate in vmtui list while the guest reads its CD"
ok "disk read rate 0 B/s idle, $(printf '%.0f' "$rate") B/s while reading /dev/sr0"
"$VMTUI" wait linux 'reads-done' --timeout 120 || fail "the guest's CD reads did not finish"

# stop: the ACPI power button; acpid powers the guest off itself (no power cut).
stopped=$("$VMTUI" stop linux --timeout 60 2>&1) || fail "vmtui stop: $stopped"
[ "$stopped" = "stopped linux: stopped: the guest powered off" ] || fail "vmtui stop: $stopped"
ok "vmtui stop: the guest powered off at the ACPI power button"
echo "ok linux-guest: $ready; scenario done after $done_after s"
