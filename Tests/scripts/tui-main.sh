#!/usr/bin/env bash
# The main screen: the library with a broken VM among good ones, help, Enter on a stopped VM,
# resizing down to 80x24 and below, and quitting cleanly.
source "$(dirname "$0")/lib/tmux.bash"

"$VMTUI" create memtest --iso /usr/lib/memtest86+/memtest86+ia32.iso --memory 128 --network none >/dev/null 2>&1 \
    || "$VMTUI" create memtest --memory 128 --network none >/dev/null
"$VMTUI" create web --os linux --forward tcp:2222:22 >/dev/null
mkdir -p "$VMTUI_HOME/VMs/broken.vmtui"
printf '{\n  "schemaVersion": 1,\n  oops\n}\n' > "$VMTUI_HOME/VMs/broken.vmtui/config.json"
"$VMTUI" create tiny >/dev/null
sed -i 's/"memoryMiB" : 128/"memoryMiB" : 1/' "$VMTUI_HOME/VMs/tiny.vmtui/config.json"

start 100 30
expect "Virtual machines"
expect_re "▶ broken +broken: not val"
expect_re "  memtest +Other stopped EMU"
expect "n New  e Edit  s Start  Enter Console  N NAT/Bridge  d Delete  ? Help  q Quit"
expect "This VM cannot be loaded."
expect "broken: not valid JSON: Invalid value at line 3"

keys Down
expect "Memory   128 MiB"
expect "Network  None"
keys Down
expect "broken: memoryMiB: 1 is out of range"
keys Down
expect "Network  NAT  tcp 2222->22"

keys '?'
expect "vmtui help"
keys Escape
absent "vmtui help"

keys Enter
expect "web is not running: press s to start it."
keys Escape
absent "web is not running"

resize 80 24
expect "Virtual machines"
check test "$(screen | head -1 | wc -m)" -le 81
expect "q Quit"
# The help fits 80 columns: long lines wrap inside its frame instead of being cut.
keys '?'
expect "vmtui help"
expect_re "^││ +once\) +││$"
expect_re "^├│ ↑↓ PgUp PgDn scroll .*Esc/q close +│┤$"
keys Escape
resize 79 24
expect "Terminal too small: 79x24"
resize 80 23
expect "Terminal too small: 80x23"
resize 80 24
expect "Virtual machines"
absent "Terminal too small"

# Unreadable JSON cannot be edited; a value out of range is repaired in the wizard.
keys Home e
expect "broken cannot be read"
keys Down Down e
expect "Edit tiny ─ 1 of 7"
keys Enter Enter Enter
expect "4 of 7"
expect "1 MiB  (4…"          # the config's value as it is, not clamped out of sight
expect "out of range"
keys Right Enter Enter Enter Enter
expect "saved tiny"
expect_re "tiny +Other stopped EMU"
grep -q '"memoryMiB" : 65' "$VMTUI_HOME/VMs/tiny.vmtui/config.json" || fail "tiny not repaired: $(cat "$VMTUI_HOME/VMs/tiny.vmtui/config.json")"

# The list notices VMs the CLI makes or deletes without r; long names that differ at the end
# stay different; a list longer than the window says it goes on.
"$VMTUI" create build-farm-worker-number-1 >/dev/null
"$VMTUI" create build-farm-worker-number-2 >/dev/null
expect "build…er-1" 5
expect "build…er-2"
"$VMTUI" delete build-farm-worker-number-2 --yes >/dev/null
absent "build…er-2" 5
for i in $(seq 10 30); do "$VMTUI" create "vm$i" --network none >/dev/null; done
expect "vm12" 5
expect_re "↓ *│" 5
keys End
expect_re "▶ web +Linux"
expect_re "↑ *│"

keys q
exited 0

# --select names a VM that is not there: said, not ignored.
start 80 24 --select nosuch
expect "No VM named nosuch to select"
keys q
exited 0
pass
