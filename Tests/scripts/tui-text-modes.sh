#!/usr/bin/env bash
# The console draws each VGA text mode the guest picks: 40x25 and 80x25 framed and centred,
# 80x50 clipped with a notice until the terminal is tall enough; CP437 box drawing, the
# guest's colours (white on blue) and the blink attribute.
source "$(dirname "$0")/lib/tmux.bash"
[ -s /usr/share/seabios/bios-256k.bin ] || { echo "SKIP $TEST_NAME: SeaBIOS is missing (apt-get install seabios)"; exit 77; }
command -v nasm >/dev/null || { echo "SKIP $TEST_NAME: nasm is missing (apt-get install nasm)"; exit 77; }
guests=$("$ROOT/scripts/make-test-guests")
"$VMTUI" create modes --floppy "$guests/text-modes-cycle.img" --boot floppy --memory 16 --network none >/dev/null

start 100 32
keys s
expect "│vmtui 40x25: press a key                │" 60
expect "│last row*                               │"
expect "┌ modes ─ keyboard: guest ─ Ctrl-] menu ─┐"

keys x
expect "of 50 (window too small)"
resize 100 56
absent "window too small"
expect "│vmtui 80x50: press a key"
expect "│last row*"

keys x
expect "│╔═╗ vmtui 80x25: press a key"
# ╔ written with attribute 0x1F: bright white (231) on blue (19) in 256 colours.
screen_sgr | grep -q $'\e\[38;5;231m\e\[48;5;19m╔' || fail "╔ is not white on blue"
# The '*' after "last row" has attribute 0xCE: blinking yellow on red.
screen_sgr | grep "last row" | grep -q $'\e\[5m' || fail "no blinking cell after \"last row\""
keys C-] q
expect_re "▶ modes +Other running EMU"
# Quitting detaches: the VM is a process of its own and keeps running.
keys q
exited 0
expect "vmtui: detached; still running: modes"
"$VMTUI" list | grep -qE "^modes +running" || fail "modes stopped when the TUI quit"
pass
