#!/usr/bin/env bash
# Boots the Linux test guest (scripts/make-linux-media) once, headless in Emulate with 2 CPUs,
# with its `smp` scenario (Tests/guests/linux/smp.sh: 2 processors, IO-APIC lines, local timer
# interrupts on both, a CPU-bound job pinned to each CPU), and checks its PASS/FAIL lines.
# Prints the seconds from power-on to the guest's "vmtui-linux ready" line.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
VMTUI=${VMTUI:-$ROOT/.build/release/vmtui}
TIMEOUT=${LINUX_BOOT_TIMEOUT:-600}
[ -x "$VMTUI" ] || { echo "FAIL linux-smp: $VMTUI is missing (swift build -c release)"; exit 1; }
media=$("$ROOT/scripts/make-linux-media") || { echo "FAIL linux-smp: scripts/make-linux-media could not build the guest"; exit 1; }
export VMTUI_HOME=$(mktemp -d)
trap 'rm -rf "$VMTUI_HOME"' EXIT

"$VMTUI" create linux-smp --os linux --memory 256M --cpus 2 --iso "$media/linux.iso" --disk none --network none >/dev/null || exit 1
start=$(date +%s.%N)
"$VMTUI" run linux-smp --headless --serial stdio --type-after "boot:" --type 'smp\n' \
    --until-text "vmtui-linux scenario smp done" --timeout "$TIMEOUT" \
    </dev/null >"$VMTUI_HOME/serial" 2>"$VMTUI_HOME/err"
status=$?
tr -d '\r' <"$VMTUI_HOME/serial" | sed 's/ *$//' | awk '!seen[$0]++' >"$VMTUI_HOME/log"
ready=$(grep -m1 "vmtui-linux ready" "$VMTUI_HOME/log")
passes=$(grep -c "^PASS: " "$VMTUI_HOME/log")
fails=$(grep "^FAIL: " "$VMTUI_HOME/log")
if [ "$status" -ne 0 ] || [ -z "$ready" ] || [ -n "$fails" ] || [ "$passes" -lt 5 ]; then
    echo "FAIL linux-smp: status $status, $passes PASS lines (5 expected)${fails:+, $fails}"
    echo "--- COM1:"; tail -n 40 "$VMTUI_HOME/log"; echo "--- stderr:"; cat "$VMTUI_HOME/err"
    exit 1
fi
grep "^PASS: " "$VMTUI_HOME/log" | sed 's/^PASS: /ok linux-smp: /'
echo "ok linux-smp: $ready; scenario done after $(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b - a }') s"
