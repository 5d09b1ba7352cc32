#!/usr/bin/env bash
# Boots the Linux test guest (scripts/make-linux-media: Debian's i386 686 kernel with a busybox
# initramfs) once, headless in Emulate, with its `smoke` scenario (Tests/guests/linux/smoke.sh),
# and checks the PASS/FAIL lines the guest prints on COM1: one boot for the whole suite.
# Prints the seconds from power-on to the guest's "vmtui-linux ready" line.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
VMTUI=${VMTUI:-$ROOT/.build/release/vmtui}
TIMEOUT=${LINUX_BOOT_TIMEOUT:-600}
[ -x "$VMTUI" ] || { echo "FAIL linux-guest: $VMTUI is missing (swift build -c release)"; exit 1; }
media=$("$ROOT/scripts/make-linux-media") || { echo "FAIL linux-guest: scripts/make-linux-media could not build the guest"; exit 1; }
export VMTUI_HOME=$(mktemp -d)
trap 'rm -rf "$VMTUI_HOME"' EXIT

"$VMTUI" create linux --os linux --memory 256M --iso "$media/linux.iso" --disk none --network none >/dev/null || exit 1
start=$(date +%s.%N)
"$VMTUI" run linux --headless --serial stdio --type-after "boot:" --type 'smoke\n' \
    --until-text "vmtui-linux scenario smoke done" --timeout "$TIMEOUT" \
    </dev/null >"$VMTUI_HOME/serial" 2>"$VMTUI_HOME/err"
status=$?
# COM1 lines, then the final screen (which repeats some of them, padded): one copy of each.
tr -d '\r' <"$VMTUI_HOME/serial" | sed 's/ *$//' | awk '!seen[$0]++' >"$VMTUI_HOME/log"
ready=$(grep -m1 "vmtui-linux ready" "$VMTUI_HOME/log")
passes=$(grep -c "^PASS: " "$VMTUI_HOME/log")
fails=$(grep "^FAIL: " "$VMTUI_HOME/log")
if [ "$status" -ne 0 ] || [ -z "$ready" ] || [ -n "$fails" ] || [ "$passes" -lt 5 ]; then
    echo "FAIL linux-guest: status $status, $passes PASS lines (5 expected)${fails:+, $fails}"
    echo "--- COM1:"; tail -n 40 "$VMTUI_HOME/log"; echo "--- stderr:"; cat "$VMTUI_HOME/err"
    exit 1
fi
grep "^PASS: " "$VMTUI_HOME/log" | sed 's/^PASS: /ok linux-guest: /'
echo "ok linux-guest: $ready; scenario done after $(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b - a }') s"
