#!/usr/bin/env bash
# Terminals that are not a modern xterm: no colours (the selection must still show), keys sent
# as tmux sends them under any TERM, no UTF-8 locale (boxes in ASCII), and themes: a missing or bad one falls back to the default with a
# message, a user theme overrides a shipped one.
source "$(dirname "$0")/lib/tmux.bash"
"$VMTUI" create alpha >/dev/null
"$VMTUI" create beta >/dev/null

TUI_ENV="TERM=vt100" start 80 24
expect "▶ alpha"
screen_sgr | grep -q $'\e\\[7m▶ alpha' || fail "selection is not reverse video on a colourless terminal"
# A dialog is not all reverse video: its focused button is, so it shows which one Enter presses.
keys d
expect "Delete alpha?"
screen_sgr | grep -F "[ Cancel ]" | grep -q $'\e\\[7m\\[ Cancel ]' || fail "the focused button is not reverse video"
screen_sgr | grep -F "Delete alpha?" | grep -q $'\e\\[[0-9;]*7m' && fail "the dialog's text is reverse video"
keys Escape
absent "Delete alpha?"
keys q
exited 0

# Home and End as tmux sends them (ESC [1~, ESC [4~), whatever TERM says: with TERM=xterm-256color
# (whose terminfo expects ESC OH / ESC OF) they must still move the selection.
"$VMTUI" create gamma >/dev/null
for term in xterm-256color tmux-256color screen linux; do
    TUI_ENV="TERM=$term" start 80 24
    expect "▶ alpha"
    keys End
    expect "▶ gamma"
    keys Home
    expect "▶ alpha"
    keys F1
    expect "vmtui help"
    keys Escape
    absent "vmtui help"
    keys q
    exited 0
done

TUI_ENV="LANG=C LC_ALL=C" start 80 24
expect "+ vmtui ---"
expect "| > alpha"
keys q
exited 0

start 80 24 --theme nosuch
expect "no theme named \"nosuch\""
expect "using the default theme"
keys Enter
absent "no theme named"
keys q
exited 0

config=$(mktemp -d)
mkdir -p "$config/vmtui/themes"
echo '{"roles": {"selection": {"fg": "black", "bg": "plaid"}}}' > "$config/vmtui/themes/dark.json"
TUI_ENV="XDG_CONFIG_HOME=$config" start 100 24 --theme dark
expect "roles.selection.bg: \"plaid\" is not a colour"
keys Enter
keys q
exited 0

echo '{"roles": {"selection": {"fg": "black", "bg": "bright-magenta"}}}' > "$config/vmtui/themes/dark.json"
TUI_ENV="XDG_CONFIG_HOME=$config" start 80 24 --theme dark
expect "▶ alpha"
screen_sgr | grep -q $'105m▶ alpha' || fail "the user's dark theme (bright-magenta selection) was not used"
absent "is not a colour"
keys q
exited 0
rm -rf "$config"
pass
