#!/usr/bin/env bash
# Each running VM is a process of its own: VMs started from the TUI outlive it (q, SIGKILL, a
# closed tmux pane), a new TUI and `vmtui list` show them, attach/type/detach; a VM killed with
# SIGKILL shows as crashed while the other goes on; the control socket refuses other protocol
# versions and garbage; screen/type/wait/console/stop/delete from the command line.
source "$(dirname "$0")/lib/tmux.bash"
[ -s /usr/share/seabios/bios-256k.bin ] || { echo "SKIP $TEST_NAME: SeaBIOS is missing (apt-get install seabios)"; exit 77; }
command -v nasm >/dev/null || { echo "SKIP $TEST_NAME: nasm is missing (apt-get install nasm)"; exit 77; }
command -v python3 >/dev/null || { echo "SKIP $TEST_NAME: python3 is missing (it speaks to the socket)"; exit 77; }
guests=$("$ROOT/scripts/make-test-guests")
for vm in echo echo2; do
    cp "$guests/echo.img" "$VMTUI_HOME/$vm.img"
    "$VMTUI" create $vm --floppy "$VMTUI_HOME/$vm.img" --boot floppy --memory 16 --network none >/dev/null
done
# echo2 has a second CPU (waiting for a SIPI that never comes), for the detail pane's per-CPU row.
"$VMTUI" set echo2 cpus=2 >/dev/null
RUN=$XDG_RUNTIME_DIR/vmtui

vm_pid() { grep -o '"pid":[0-9]*' "$RUN/$1.pid" | cut -d: -f2; }
# listed NAME REGEX: `vmtui list` shows NAME's row matching REGEX.
listed() { "$VMTUI" list | grep -E "^$1 +$2" >/dev/null; }

# Two VMs started from the TUI; quitting detaches and says so once.
start 100 32
expect_re "▶ echo +Other stopped EMU"
keys s
expect "vmtui echo guest ready: type here" 60
keys C-] q
keys Down s
expect "echo2 ─ keyboard: guest"
expect "vmtui echo guest ready: type here" 60
keys C-] q
expect_re "▶ echo2 +Other running EMU"
expect_re "Per CPU +#0 [0-9]+\.[0-9]+  #1 0\.00 MIPS"
keys q
exited 0
expect "vmtui: detached; still running: echo, echo2"
[ "$(screen | grep -c 'still running')" = 1 ] || fail "the detach message is not there exactly once"
check listed echo "running +$(vm_pid echo) "
check listed echo2 "running +$(vm_pid echo2) "
"$VMTUI" list | grep -qE "^echo +running +[0-9]+ +0:00:[0-9]{2} +[0-9]+% +[0-9]+ MiB +0 B/s / 0 B/s +0 B/s / 0 B/s " \
    || fail "list lacks PID, uptime, CPU, RSS, disk and network rates: $("$VMTUI" list)"
# `vmtui show` of a running VM: the detail pane's live rows above the settings.
shown=$("$VMTUI" show echo2)
echo "$shown" | grep -qE "^  State +running  up 0:00:[0-9]{2}  2 CPUs  [0-9.]+ MIPS  engine CPU [0-9]+%$" \
    && echo "$shown" | grep -qE "^  Per CPU  #0 [0-9.]+  #1 0\.00 MIPS$" && echo "$shown" | grep -qE "^  CPUs +2$" \
    || fail "vmtui show of a running 2-CPU VM lacks its state or per-CPU row: $shown"

# A new TUI sees them running; Enter attaches, typing reaches the guest, Ctrl-] q detaches.
start 100 32
expect_re "▶ echo +Other running EMU"
expect_re "  echo2 +Other running EMU"
expect_re "Disk I/O +0 B/s read, 0 B/s written"
expect_re "Net I/O +0 B/s in, 0 B/s out"
keys Enter
expect "echo ─ keyboard: guest"
expect "vmtui echo guest ready: type here"
keys "through the socket"
expect "│through the socket" 10
keys C-] q
expect_re "▶ echo +Other running EMU"

# SIGKILL one VM process: crashed within 2 s in the TUI and the list; the other goes on.
kill -9 "$(vm_pid echo)"
t0=$(date +%s%N)
expect_re "▶ echo +Other crashed EMU" 2
expect "State    crashed: killed by signal 9" 2
check listed echo "crashed: killed by signal 9"
elapsed=$(( ($(date +%s%N) - t0) / 1000000 ))
[ $elapsed -le 2000 ] || fail "the crash showed after $elapsed ms"
expect_re "  echo2 +Other running EMU"
"$VMTUI" type echo2 'still alive\n'
"$VMTUI" wait echo2 "still alive" --timeout 10 || fail "echo2 does not answer keys after echo was killed"
grep -q "killed by signal 9" "$VMTUI_HOME/VMs/echo.vmtui/vm.log" || fail "the VM's log does not say how it died"
# The monitor cleans up: only echo2's files stay (its settings, pid and socket; echo.status goes
# when the monitor stops lingering).
deadline=$((SECONDS + 15))
while [ -e "$RUN/echo.status" ] && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
[ "$(ls "$RUN" | sort | tr '\n' ' ')" = "echo2.config echo2.pid echo2.sock " ] || fail "stale run files: $(ls "$RUN")"
# Its locks (the image, the bundle) died with it: it starts again.
"$VMTUI" start echo | grep -q "started echo" || fail "echo does not start again after being killed"
"$VMTUI" wait echo "type here" --timeout 60 || fail "echo does not boot again"
expect_re "▶ echo +Other running EMU" 3

# SIGKILL the TUI and close its pane: the VMs keep running.
tui=$(pgrep -P "$(tmux -L "$SOCKET" display -p '#{pane_pid}')" -x vmtui)
kill -9 "$tui"
tmux -L "$SOCKET" kill-server
sleep 1
check listed echo running
check listed echo2 running
"$VMTUI" type echo 'after the TUI\n'
"$VMTUI" wait echo "after the TUI" --timeout 10 || fail "echo stopped answering when its TUI was killed"

# The socket refuses another protocol version and garbage with a message; the VM keeps running.
answer() {
    python3 - "$RUN/echo2.sock" "$1" <<'PY'
import socket, struct, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.settimeout(10)
s.sendall(bytes.fromhex(sys.argv[2]))
data = b""
while True:
    chunk = s.recv(65536)
    if not chunk: break
    data += chunk
length, kind = struct.unpack(">IB", data[:5])
print(hex(kind), data[9:4 + length].decode())
PY
}
hello99=$(answer "0000000b01766d7475692d63700063")
[[ "$hello99" =~ ^"0xff control protocol version 99 is not spoken here (this vmtui speaks version "[0-9]+")" ]] || fail "version 99: $hello99"
garbage=$(answer "$(printf 'GET / HTTP/1.1\r\n\r\n' | od -An -tx1 | tr -d ' \n')")
[[ "$garbage" == "0xff not the vmtui control protocol: a frame length of"* ]] || fail "garbage: $garbage"
grep -q "refused a client" "$VMTUI_HOME/VMs/echo2.vmtui/vm.log" || fail "refusals are not in the VM's log"
"$VMTUI" type echo2 'unharmed\n'
"$VMTUI" wait echo2 unharmed --timeout 10 || fail "echo2 stopped answering after a bad client"

# screen, type, wait (the screen and COM1), console.
"$VMTUI" screen echo2 | grep -q "^vmtui echo guest ready: type here" || fail "vmtui screen: $("$VMTUI" screen echo2)"
"$VMTUI" type echo2 'typed by vmtui type\n'
"$VMTUI" wait echo2 "typed by vmtui type" --timeout 10 || fail "vmtui wait did not see typed text"
"$VMTUI" screen echo2 | grep -q "^typed by vmtui type" || fail "vmtui screen lacks the typed text"
if "$VMTUI" wait echo2 "never shown" --timeout 1 2>/dev/null; then fail "vmtui wait did not time out"; fi
start 100 32 console echo2
expect "connected to echo2's COM1 (Ctrl-] leaves)"
keys "over COM1"
expect "over COM1" 10
"$VMTUI" wait echo2 "over COM1" --timeout 5 || fail "vmtui wait does not watch COM1"
keys C-]
exited 0
expect "left echo2's COM1; it keeps running"
check listed echo2 running
"$VMTUI" start echo2 | grep -q "echo2 is already running" || fail "start of a running VM"

# Every way out of the screen detaches (issue 18: Ctrl-C and a q on a too-small terminal cut
# the power before): Ctrl-C, F10, and q from an attached console shrunk below 80x24.
for way in C-c F10; do
    start 100 32
    expect_re "▶ echo +Other running EMU"
    keys $way
    exited 0
    expect "vmtui: detached; still running: echo, echo2"
done
start 100 32 attach echo2
expect "echo2 ─ keyboard: guest"
resize 60 20
expect "Terminal too small"
keys q
exited 0
expect "detached; still running: echo, echo2"
check listed echo running
check listed echo2 running

# delete is refused while a VM runs (any process); stop powers the echo guest off (no ACPI OS
# listens, so the power button cuts the power at once) and frees it; --force cuts it outright.
if "$VMTUI" delete echo2 --yes 2>"$VMTUI_HOME/err"; then fail "deleted a running VM"; fi
grep -q "echo2 is running: stop it first" "$VMTUI_HOME/err" || fail "delete message: $(cat "$VMTUI_HOME/err")"
[ -d "$VMTUI_HOME/VMs/echo2.vmtui" ] || fail "the running VM's bundle is gone"
"$VMTUI" stop echo2 | grep -q "stopped echo2: stopped: the power was cut" || fail "stop echo2"
t0=$SECONDS
"$VMTUI" stop echo --force --timeout 30 | grep -q "stopped echo: stopped: the power was cut (forced power-off)" || fail "stop --force echo"
[ $((SECONDS - t0)) -lt 10 ] || fail "stop --force waited for the --timeout"
check listed echo2 "stopped: powered off"
"$VMTUI" delete echo2 --yes >/dev/null || fail "delete after stop"
pass
