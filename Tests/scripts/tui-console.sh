#!/usr/bin/env bash
# The console, as a person uses it: start the echo guest from the list, type into it (Enter,
# Backspace, F-keys, Ctrl and Alt), pause and resume, the COM1 view, resizing while it runs,
# changing the CD, switching the network of the running VM (console menu and the list's N), a
# second VM running alongside, power off, and a triple-faulting guest the TUI survives.
source "$(dirname "$0")/lib/tmux.bash"
[ -s /usr/share/seabios/bios-256k.bin ] || { echo "SKIP $TEST_NAME: SeaBIOS is missing (apt-get install seabios)"; exit 77; }
command -v nasm >/dev/null || { echo "SKIP $TEST_NAME: nasm is missing (apt-get install nasm)"; exit 77; }
guests=$("$ROOT/scripts/make-test-guests")
"$VMTUI" create echo --floppy "$guests/echo.img" --boot floppy --memory 16 --network nat >/dev/null
"$VMTUI" create echo2 --floppy "$guests/echo.img" --boot floppy --memory 16 --network none >/dev/null
"$VMTUI" create fault --floppy "$guests/triple-fault.img" --boot floppy --memory 16 --network none >/dev/null

# no_text TEXT: TEXT is not on the screen right now.
no_text() { ! screen | grep -qF -- "$1" || fail "did not expect \"$1\" on the screen"; }

start 100 32
expect_re "▶ echo +Other stopped EMU"
keys s
expect "echo ─ keyboard: guest ─ Ctrl-] menu"
expect "vmtui echo guest ready: type here" 60
expect "Ctrl-] VM menu"
expect_re "echo running  up 0:00:[0-9]{2}  1 CPU  [0-9.]+ MIPS  engine CPU [0-9]+%"

keys "Hello, World!" Enter
keys "abcX" BSpace d F1 F12 C-a M-x Tab
keys Escape
expect "│Hello, World!"
expect "│abcd<F1><F12>^A<2D><Tab><Esc>"
no_text "abcX"

# Ctrl-] takes the keyboard: keys typed while paused reach the guest after resume.
keys C-]
expect "p pause  r reset  c Ctrl-Alt-Del  ] Ctrl-]  o power off  i CD  n net  t serial  q list  Esc guest"
expect "echo ─ keyboard: vmtui"
keys p
expect_re "echo paused  up"
expect "p resume"
# (Esc on its own: Esc and z in one write would be Alt-z, as in any terminal)
keys Escape
keys zz
sleep 1
no_text "<Esc>zz"
keys C-] p
expect_re "echo running  up"
expect "<Esc>zz" 10

# The COM1 view shows what the guest wrote there; keys go to COM1 and come back echoed.
keys C-] t
expect "echo ─ COM1 ─ keyboard: guest"
expect "│abcd<F1><F12>^A<2D><Tab><Esc>zz"
keys "serial" Enter
expect "<Esc>zzserial" 10
keys C-] t
expect "echo ─ keyboard: guest"
expect "<Esc>zzserial"

# Resizing while the guest runs: larger centres the frame, smaller clips with a notice.
resize 120 40
expect "│vmtui echo guest ready: type here"
resize 80 24
expect "rows 1-22 of 25 (window too small) │ echo running"
expect "vmtui echo guest ready: type here"
resize 100 32
absent "window too small"
keys "resized"
expect "│resized" 10

# The CD/DVD drive (empty: the VM has no ISO): a file that is no ISO is refused in the dialog;
# an ISO goes in (the engine says so) and into config.json; Eject takes it out of both.
iso=/usr/lib/memtest86+/memtest86+ia32.iso
if [ -s "$iso" ]; then
    keys C-] i
    expect "CD/DVD of echo"
    keys -l "/etc/hostname"
    keys Enter
    expect "/etc/hostname is not an ISO 9660 image"
    # Tab completes the name (it does not move to Eject), Enter inserts.
    keys C-u
    keys -l "/usr/lib/memtest86"
    keys Tab
    expect "/usr/lib/memtest86+/"
    keys -l "memtest86+i"
    keys Tab
    expect "$iso"
    keys Enter
    expect "CD: memtest86+ia32.iso inserted │ echo running" 10
    grep -q "\"bootISO\" : \"$iso\"" "$VMTUI_HOME/VMs/echo.vmtui/config.json" || fail "the inserted ISO is not in config.json"
    # The dialog starts with the disc in the drive; Shift-Tab reaches Eject.
    keys C-] i
    expect "CD/DVD of echo"
    expect "$iso"
    keys BTab BTab Enter
    expect "CD ejected │ echo running" 10
    ! grep -q bootISO "$VMTUI_HOME/VMs/echo.vmtui/config.json" || fail "the ejected ISO is still in config.json"
    keys "after cd"
    expect "│resizedafter cd" 10
else
    echo "note: $iso is missing (apt-get install memtest86+): CD change not checked"
fi

# The network of the running VM from the console menu: a bridge that does not exist is refused
# with the fix (the choice is kept, the link stays down); NAT switches back and says the guest
# may need to renew its lease. Shift-Tab twice from the field reaches Bridge, Enter is NAT.
nobridge=vmtnobr$$
keys C-] n
expect "Network of echo"
keys C-u
keys -l "$nobridge"
keys BTab BTab Enter
expect "network Bridge $nobridge failed: host bridge $nobridge does not exist" 10
grep -q "\"bridgeInterface\" : \"$nobridge\"" "$VMTUI_HOME/VMs/echo.vmtui/config.json" || fail "the bridge is not in config.json"
keys C-] n
expect "Network of echo"
keys Enter
expect "network switched to NAT; the guest may need to renew its DHCP lease" 10
grep -q '"mode" : "nat"' "$VMTUI_HOME/VMs/echo.vmtui/config.json" || fail "NAT is not in config.json"

# The list's N on the running VM: NAT -> the bridge it has (refused: missing) -> NAT, at once.
keys C-] q
expect_re "▶ echo +Other running EMU"
keys N
expect "echo: network Bridge $nobridge failed: host bridge $nobridge does not exist" 10
keys N
expect "echo: network switched to NAT; the guest may need to renew" 10
no_text "Pending"    # the running VM has the saved network: not a pending change
keys Enter
expect "echo ─ keyboard: guest"

# A VM that cannot start says why and the TUI carries on: echo2 shares echo's floppy image,
# which the running echo holds. With its own copy it starts and runs alongside echo.
keys C-] q
expect_re "▶ echo +Other running EMU"
no_text "Pending"    # a CD swapped in the console applies at once, it is not pending
keys Down s
expect "echo2 could not start: host error: $guests/echo.img" 30
expect_re "▶ echo2 +Other error +EMU"
expect "State    stopped: host error:"
no_text "echo2 ─ keyboard"
cp "$guests/echo.img" "$VMTUI_HOME/echo2.img"
"$VMTUI" set echo2 floppy="$VMTUI_HOME/echo2.img" >/dev/null
keys r
keys s
expect "echo2 ─ keyboard: guest"
expect "vmtui echo guest ready: type here" 60
keys "second"
expect "│second"
keys C-] q
expect_re "  echo +Other running EMU"
expect_re "▶ echo2 +Other running EMU"

# Editing a running VM: saved for its next start, and the detail pane shows both values.
keys e
expect "Edit echo2 (running: changes apply at next start)"
keys Enter Enter Enter
expect "4 of 7"
keys Right Enter Enter Enter
expect "Save these settings for echo2's next start?"
keys Enter
expect "saved echo2: it is running, so the changes apply at its next start"
expect "Memory   16 MiB → 80 MiB at next start"
keys Up Enter
expect "echo ─ keyboard: guest"
expect "│resized"
no_text "second"
keys "still here"
expect "resizedafter cdstill here" 10

# Power off (confirmed; no ACPI in this guest, so at once): the list shows it stopped.
keys C-] o
expect "Power off echo"
keys Left Enter
expect "echo stopped: the power was cut (forced power-off)" 10
keys q
expect_re "▶ echo +Other stopped EMU"
expect_re "  echo2 +Other running EMU"

# A triple fault stops only that VM; the TUI carries on.
keys End s
expect "vmtui triple-fault guest: faulting now" 60
expect "fault stopped: triple fault: #" 30
no_text "triple fault: triple fault"
keys q
expect_re "▶ fault +Other crashed EMU"
expect "State    stopped: triple fault"
keys '?'
expect "vmtui help"
keys Escape
expect_re "  echo2 +Other running EMU"

# Quitting detaches, says so once, and leaves the running VM running.
keys q
exited 0
expect 'vmtui: detached; still running: echo2 (`vmtui` or `vmtui attach NAME` to return'
"$VMTUI" list | grep -qE "^echo2 +running" || fail "echo2 stopped when the TUI quit"
"$VMTUI" list | grep -qE "^echo +stopped" || fail "echo is not listed as stopped"

# `vmtui run NAME` on a terminal is the console, as vmtui --start NAME. With TERM=xterm-256color
# (tmux still sends ESC [1~ / ESC [4~), Home and End reach the guest as keys, not as "1~" "4~".
TUI_ENV="TERM=xterm-256color" start 100 32 run echo
expect "echo ─ keyboard: guest ─ Ctrl-] menu"
expect "vmtui echo guest ready: type here" 60
keys "via run"
expect "│via run" 10
keys Home End
expect "│via run<47><4F>" 10
no_text "1~"
# What the US layout cannot type is not sent, and the info line says so; Ctrl-] from the menu.
keys Enter
keys -l "echo ünïcödé €"
expect "│echo ncd" 10
expect "not typed (no key on the guest's US keyboard): ü ï ö é €"
keys C-] ]
expect "│echo ncd ^]" 10
keys C-] n
expect "Network of echo"
keys Enter
expect "network switched to NAT; the guest may need to renew" 10

# At 80x24 the frame does not fit: the rows shown follow the guest's cursor, so the line being
# typed on (a shell prompt) stays in view, and the info line says which rows show.
resize 80 24
for i in $(seq 1 24); do keys Enter; done
keys "at the bottom"
expect "at the bottom" 10
expect "rows 4-25 of 25 (window too small)"
keys C-] q
expect_re "▶ echo +Other running EMU"
keys q
exited 0
expect "vmtui: detached; still running: echo, echo2"
pass
