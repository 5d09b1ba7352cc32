#!/usr/bin/env bash
# kill -9 of a VM process while its guest writes leaves every image consistent (issue 17): a
# nasm writer guest (Tests/guests/disk-writer.asm, -DFOREVER) writes 32 KiB chunks to a qcow2
# and a VDI disk in turn, the VM process is killed at a random moment once it writes, 20 times
# (even runs on SATA, odd on virtio-blk), and `qemu-img check` must pass on both images each
# time (exit 3, leaked clusters only, is accepted as QEMU does).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
VMTUI=${VMTUI:-$ROOT/.build/release/vmtui}
ROUNDS=${DISK_KILL_ROUNDS:-20}
[ -x "$VMTUI" ] || { echo "FAIL disk-kill: $VMTUI is missing (swift build -c release)"; exit 1; }
for tool in nasm qemu-img python3; do
    command -v $tool >/dev/null || { echo "SKIP disk-kill: $tool is not installed (apt-get install nasm qemu-utils python3)"; exit 77; }
done
export VMTUI_HOME=$(mktemp -d)
export XDG_RUNTIME_DIR=$VMTUI_HOME/run
mkdir -p "$XDG_RUNTIME_DIR"
cleanup() {
    for vm in killsata killvirtio; do "$VMTUI" stop "$vm" --force >/dev/null 2>&1; done
    rm -rf "$VMTUI_HOME"
}
trap cleanup EXIT
failed=0
fail() { echo "FAIL disk-kill: $*"; failed=1; }

nasm -f bin -i "$ROOT/Tests/guests/" -DFOREVER -DDRIVES=2 -DCHUNKS=1024 -o "$VMTUI_HOME/writer.img" \
    "$ROOT/Tests/guests/disk-writer.asm" || { echo "FAIL disk-kill: nasm"; exit 1; }
truncate -s 1474560 "$VMTUI_HOME/writer.img"
qemu-img create -q -f qcow2 "$VMTUI_HOME/disk.qcow2" 64M
qemu-img create -q -f vdi "$VMTUI_HOME/disk.vdi" 64M
for interface in sata virtio; do
    "$VMTUI" create "kill$interface" --memory 16 --floppy "$VMTUI_HOME/writer.img" --disk "$VMTUI_HOME/disk.qcow2" \
        --disk-interface "$interface" --boot floppy --network none >/dev/null || { echo "FAIL disk-kill: create"; exit 1; }
    # The VDI as the second disk (BIOS drive 0x81) on the same controller.
    python3 - "$VMTUI_HOME/VMs/kill$interface.vmtui/config.json" "$VMTUI_HOME/disk.vdi" "$interface" <<'PY'
import json, sys
path, image, interface = sys.argv[1:]
config = json.load(open(path))
config["disks"].append({"path": image, "format": "vdi", "interface": interface})
json.dump(config, open(path, "w"), indent=2, sort_keys=True)
PY
done

began=$(date +%s)
checked=0
for round in $(seq "$ROUNDS"); do
    vm=kill$([ $((round % 2)) = 0 ] && echo sata || echo virtio)
    "$VMTUI" start "$vm" >/dev/null || { fail "round $round: start $vm"; break; }
    "$VMTUI" wait "$vm" "disk writer" --timeout 60 >/dev/null || { fail "round $round: the writer did not start: $("$VMTUI" screen "$vm")"; break; }
    pid=$(grep -o '"pid":[0-9]*' "$XDG_RUNTIME_DIR/vmtui/$vm.pid" | cut -d: -f2)
    sleep "$(awk -v r=$RANDOM 'BEGIN { printf "%.2f", 0.1 + r / 32768 * 1.5 }')"
    kill -9 "$pid"
    while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
    for image in "$VMTUI_HOME/disk.qcow2" "$VMTUI_HOME/disk.vdi"; do
        out=$(qemu-img check "$image" 2>&1)
        status=$?
        if [ $status = 0 ] || [ $status = 3 ]; then
            checked=$((checked + 1))
        else
            fail "round $round ($vm): qemu-img check $(basename "$image") exited $status: $out"
        fi
    done
    [ $failed = 0 ] || break
done
[ $failed = 0 ] && echo "ok disk-kill: $ROUNDS kill -9 rounds while writing, $checked image checks clean ($(( $(date +%s) - began )) s)"
used=$(qemu-img info --output=json "$VMTUI_HOME/disk.qcow2" | python3 -c 'import json,sys; print(json.load(sys.stdin)["actual-size"])')
[ "$used" -gt $((1 << 20)) ] || fail "the guest wrote almost nothing (qcow2 uses $used bytes): the kills did not hit writes"
exit $failed
