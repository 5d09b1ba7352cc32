# Helpers for the TUI tests: run the release vmtui in a private tmux server, type at it and
# read its screen as a person would. Source this; it sets up VMTUI_HOME and cleans up on exit.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
VMTUI=${VMTUI:-$ROOT/.build/release/vmtui}
export LC_ALL=${LC_ALL:-C.UTF-8}
export VMTUI_HOME=$(mktemp -d)
# VMs are processes of their own: their sockets go to a private run directory, and cleanup stops them.
export XDG_RUNTIME_DIR=$(mktemp -d)
SOCKET=vmtui-test-$$-0
STARTS=0
TEST_NAME=$(basename "$0" .sh)
FAILED=0

if ! command -v tmux >/dev/null; then echo "SKIP $TEST_NAME: tmux is not installed (apt-get install tmux)"; exit 77; fi
if [ ! -x "$VMTUI" ]; then echo "FAIL $TEST_NAME: $VMTUI is missing (swift build -c release)"; exit 1; fi

# The VM processes (and their monitors) this test left running, cut off hard.
stop_vms() {
    local file name monitors=""
    for file in "$XDG_RUNTIME_DIR"/vmtui/*.pid; do
        [ -e "$file" ] || continue
        monitors="$monitors $(grep -o '"monitorPID":[0-9]*' "$file" | cut -d: -f2)"
        name=$(basename "$file" .pid)
        "$VMTUI" stop "$name" --force >/dev/null 2>&1 || kill -9 "$(grep -o '"pid":[0-9]*' "$file" | cut -d: -f2)" 2>/dev/null || true
    done
    for pid in $monitors; do kill "$pid" 2>/dev/null || true; done
}
cleanup() { stop_vms; tmux -L "$SOCKET" kill-server 2>/dev/null || true; rm -rf "$VMTUI_HOME" "$XDG_RUNTIME_DIR"; }
trap cleanup EXIT

# start WIDTH HEIGHT [vmtui args...]: opens vmtui in a fresh session; its exit code lands in $VMTUI_HOME/exit.
# TUI_ENV adds environment settings (TERM defaults to tmux-256color, what tmux itself emulates).
start() {
    local w=$1 h=$2; shift 2
    # A fresh server per run: reusing a socket races with the previous server shutting down.
    tmux -L "$SOCKET" kill-server 2>/dev/null || true
    STARTS=$((STARTS + 1))
    SOCKET=vmtui-test-$$-$STARTS
    rm -f "$VMTUI_HOME/exit"
    tmux -L "$SOCKET" new-session -d -x "$w" -y "$h" \
        "env TERM=tmux-256color ${TUI_ENV:-} VMTUI_HOME='$VMTUI_HOME' XDG_RUNTIME_DIR='$XDG_RUNTIME_DIR' '$VMTUI' $* 2>'$VMTUI_HOME/stderr'; echo \$? > '$VMTUI_HOME/exit'; sleep 60"
}

screen() { tmux -L "$SOCKET" capture-pane -p; }
# The screen with its SGR attributes (reverse is ESC[7m), to check what shows without colour.
screen_sgr() { tmux -L "$SOCKET" capture-pane -p -e; }
keys() { tmux -L "$SOCKET" send-keys "$@"; sleep 0.15; }
resize() { tmux -L "$SOCKET" resize-window -x "$1" -y "$2"; sleep 0.3; }

fail() {
    echo "FAIL $TEST_NAME: $*"
    echo "---- screen ----"; screen || true; echo "----------------"
    [ -s "$VMTUI_HOME/stderr" ] && { echo "---- stderr ----"; cat "$VMTUI_HOME/stderr"; }
    FAILED=1
    exit 1
}

# expect TEXT [SECONDS]: waits until TEXT is on the screen.
expect() {
    local deadline=$((SECONDS + ${2:-5}))
    while [ $SECONDS -lt $deadline ]; do
        screen | grep -qF -- "$1" && return 0
        sleep 0.1
    done
    fail "expected \"$1\" on the screen"
}

# expect_re REGEX [SECONDS]: waits until a line matches the extended regular expression.
expect_re() {
    local deadline=$((SECONDS + ${2:-5}))
    while [ $SECONDS -lt $deadline ]; do
        screen | grep -qE -- "$1" && return 0
        sleep 0.1
    done
    fail "expected a line matching /$1/ on the screen"
}

# absent TEXT [SECONDS]: waits until TEXT is gone from the screen.
absent() {
    local deadline=$((SECONDS + ${2:-5}))
    while [ $SECONDS -lt $deadline ]; do
        screen | grep -qF -- "$1" || return 0
        sleep 0.1
    done
    fail "did not expect \"$1\" on the screen"
}

# exited CODE: vmtui ended with CODE.
exited() {
    local deadline=$((SECONDS + 5))
    while [ $SECONDS -lt $deadline ] && [ ! -s "$VMTUI_HOME/exit" ]; do sleep 0.1; done
    [ -s "$VMTUI_HOME/exit" ] || fail "vmtui did not exit"
    [ "$(cat "$VMTUI_HOME/exit")" = "$1" ] || fail "vmtui exited with $(cat "$VMTUI_HOME/exit"), expected $1"
}

check() { "$@" || fail "check failed: $*"; }

pass() { echo "PASS $TEST_NAME"; }
