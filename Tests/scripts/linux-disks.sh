#!/usr/bin/env bash
# Linux on both disk controllers (issue 17): a raw, a qcow2 and a VDI image on AHCI (SATA) and
# the same three on virtio-blk, one boot sequence of the Linux test guest. The scenario
# (Tests/guests/linux/disks.sh) checks each disk's driver, makes ext2 on each, writes a file and
# runs `reboot -f`; the guest comes back (ISOLINUX's default entry, a shell on COM1), where this
# script runs the scenario again to read the files back and power off. Then `qemu-img check`
# on each image.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
VMTUI=${VMTUI:-$ROOT/.build/release/vmtui}
main() {
    local scenario=disks timeout=${LINUX_BOOT_TIMEOUT:-900} name=linux-disks
    [ -x "$VMTUI" ] || { echo "FAIL $name: $VMTUI is missing (swift build -c release)"; return 1; }
    command -v qemu-img >/dev/null || { echo "SKIP $name: qemu-img is not installed (apt-get install qemu-utils)"; return 77; }
    local media
    media=$("$ROOT/scripts/make-linux-media") || { echo "FAIL $name: scripts/make-linux-media could not build the guest"; return 1; }
    export VMTUI_HOME=$(mktemp -d)
    export XDG_RUNTIME_DIR=$VMTUI_HOME/run
    mkdir -p "$XDG_RUNTIME_DIR"
    trap 'exec 3>&- 2>/dev/null; kill $run 2>/dev/null; rm -rf "$VMTUI_HOME"' EXIT
    local home=$VMTUI_HOME format interface images=()
    for interface in sata virtio; do
        truncate -s 64M "$home/$interface.raw"
        for format in qcow2 vdi; do qemu-img create -q -f $format "$home/$interface.$format" 64M; done
        for format in raw qcow2 vdi; do images+=("$home/$interface.$format"); done
    done
    "$VMTUI" create lx --os linux --memory 256M --iso "$media/linux.iso" --disk "$home/sata.raw" \
        --disk-interface sata --network none >/dev/null || { echo "FAIL $name: create"; return 1; }
    python3 - "$home/VMs/lx.vmtui/config.json" "$home" <<'PY'
import json, sys
path, home = sys.argv[1:]
config = json.load(open(path))
for interface, fmt in (("sata", "qcow2"), ("sata", "vdi"), ("virtio", "raw"), ("virtio", "qcow2"), ("virtio", "vdi")):
    config["disks"].append({"path": f"{home}/{interface}.{fmt}", "format": fmt, "interface": interface})
json.dump(config, open(path, "w"), indent=2, sort_keys=True)
PY
    mkfifo "$home/com1"
    local began=$(date +%s)
    "$VMTUI" run lx --headless --serial stdio --type-after "boot:" --type "$scenario\n" \
        --until-text "$scenario: all done" --timeout "$timeout" <"$home/com1" >"$home/serial" 2>"$home/err" &
    run=$!
    exec 3>"$home/com1"
    # The second boot: its COM1 shell answers once it is up; then the scenario runs again there.
    local rebooted= second=
    while kill -0 $run 2>/dev/null; do
        if [ -z "$rebooted" ] && grep -q "first boot done, rebooting" "$home/serial"; then rebooted=$(date +%s); fi
        if [ -n "$rebooted" ] && [ -z "$second" ] && [ "$(grep -c 'vmtui-linux ready' "$home/serial")" -ge 2 ]; then
            if grep -q "vmtui-shell-2" "$home/serial"; then
                printf '/tests/%s\n' "$scenario" >&3
                second=$(date +%s)
            else
                printf 'echo vmtui-shell-$((1+1))\n' >&3
            fi
        fi
        sleep 2
    done
    wait $run
    local status=$?
    exec 3>&-
    tr -d '\r' <"$home/serial" | sed 's/ *$//' | awk '!seen[$0]++' >"$home/log"
    local passes fails
    passes=$(grep -c "^PASS: " "$home/log")
    fails=$(grep "^FAIL: " "$home/log")
    if [ "$status" -ne 0 ] || [ -n "$fails" ] || [ "$passes" -lt 24 ] || [ -z "$second" ]; then
        echo "FAIL $name: status $status, $passes PASS lines (24 expected)${fails:+, $fails}"
        echo "--- COM1:"; tail -n 40 "$home/log"; echo "--- stderr:"; cat "$home/err"
        return 1
    fi
    grep "^PASS: " "$home/log" | sed "s/^PASS: /ok $name: /"
    local failed=0 out
    local image
    for image in "${images[@]}"; do
        format=${image##*.}
        if [ $format = raw ] || out=$(qemu-img check -f $format "$image" 2>&1); then
            echo "ok $name: qemu-img check ${image##*/} clean after power-off"
        else
            echo "FAIL $name: qemu-img check ${image##*/}: $out"; failed=1
        fi
    done
    echo "ok $name: first boot to reboot $((rebooted - began)) s, second boot to scenario $((second - rebooted)) s, total $(( $(date +%s) - began )) s"
    return $failed
}
main
exit $?
