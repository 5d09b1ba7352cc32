#!/usr/bin/env bash
# Several CPUs, the local APICs and the IOAPIC in Emulate, through `vmtui run --headless`
# (release build): the multiboot kernel Tests/guests/smp-apic.asm on PCs with 2 and 4 CPUs
# starts the APs by INIT/SIPI (each reports its APIC ID), does an IPI round trip, runs the APIC
# timer one-shot and periodic, takes the PIT through the IOAPIC and a level-triggered line
# (remote IRR and EOI); SeaBIOS's log says it found every CPU. A failing check prints the guest's "FAIL x at step n" line.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
VMTUI=${VMTUI:-$ROOT/.build/release/vmtui}
TEST_NAME=$(basename "$0" .sh)
ROM=/usr/share/qemu/multiboot.bin

command -v nasm >/dev/null || { echo "SKIP $TEST_NAME: nasm is not installed (apt-get install nasm)"; exit 77; }
[ -f /usr/share/seabios/bios-256k.bin ] || { echo "SKIP $TEST_NAME: SeaBIOS is missing (apt-get install seabios)"; exit 77; }
[ -f "$ROM" ] || { echo "SKIP $TEST_NAME: $ROM is missing (apt-get install qemu-system-data)"; exit 77; }
[ -x "$VMTUI" ] || { echo "FAIL $TEST_NAME: $VMTUI is missing (swift build -c release)"; exit 1; }

WORK=$(mktemp -d)
export VMTUI_HOME=$WORK/home
trap 'rm -rf "$WORK"' EXIT
FAILS=0
fail() { echo "FAIL $TEST_NAME: $*"; FAILS=$((FAILS + 1)); }

nasm -f bin -o "$WORK/smp-apic.bin" "$ROOT/Tests/guests/smp-apic.asm"

for cpus in 2 4; do
    cfg=$WORK/smp$cpus.json
    printf '{"schemaVersion":1,"name":"smp%s","mode":"emulate","osType":"other","memoryMiB":32,"cpuCount":%s,"disks":[],"bootOrder":["disk"],"network":{"mode":"none","portForwards":[]},"firmware":{}}\n' "$cpus" "$cpus" >"$cfg"
    set +e
    "$VMTUI" run --config "$cfg" --kernel "$WORK/smp-apic.bin" --headless --serial stdio --timeout 120 \
        --debugcon "$WORK/bios$cpus.log" >"$WORK/out$cpus" 2>"$WORK/err$cpus" </dev/null
    rc=$?
    set -e
    line=$(tr -d '\r' <"$WORK/out$cpus" | grep -a -m1 "smp-apic " || true)
    map=$(printf '%08X' $(((1 << cpus) - 1)))
    if [ $rc -ne 33 ] || [ "$line" != "smp-apic ok cpus=0000000$cpus map=$map" ]; then
        fail "$cpus CPUs: status $rc, guest said '${line:-nothing}': $(tail -n 3 "$WORK/err$cpus")"
    else
        echo "ok   $cpus CPUs: APs started by INIT/SIPI reported in, IPI round trip, APIC timer, PIT through the IOAPIC, a level-triggered line"
    fi
    grep -q "Found $cpus cpu(s) max supported $cpus cpu(s)" "$WORK/bios$cpus.log" \
        || fail "$cpus CPUs: SeaBIOS did not find them all: $(grep -a "cpu(s)" "$WORK/bios$cpus.log" || echo 'no CPU line')"
done

[ $FAILS -eq 0 ] || exit 1
echo "ok $TEST_NAME"
