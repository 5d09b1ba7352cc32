#!/usr/bin/env bash
# A full host disk pauses the VM instead of failing the guest's write (issue 17): a nasm writer
# guest (Tests/guests/disk-writer.asm) fills an image on a 12 MiB tmpfs this script mounts,
# on SATA (qcow2), virtio-blk (VDI) and IDE (qcow2). The VM must pause with "paused: host disk
# full (PATH)" in `vmtui list`; after the test frees space, `vmtui resume` retries the write,
# the guest finishes without ever seeing an error, and `qemu-img check` finds the image clean
# with every byte the guest wrote in it (qemu-io).
# Then the same with the disk's policy set to report (`vmtui set VM disk-full=report`), SATA on
# VDI, virtio-blk on qcow2 and IDE on VDI: the guest's write fails (SeaBIOS returns the
# controller's error from INT 13h, the writer prints "write failed"), the VM is never paused and
# keeps running, and qemu-img check finds no damage in the image (leaked clusters at most: it is
# powered off while the host disk is still full).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
VMTUI=${VMTUI:-$ROOT/.build/release/vmtui}
[ -x "$VMTUI" ] || { echo "FAIL disk-full: $VMTUI is missing (swift build -c release)"; exit 1; }
for tool in nasm qemu-img qemu-io; do
    command -v $tool >/dev/null || { echo "SKIP disk-full: $tool is not installed (apt-get install nasm qemu-utils)"; exit 77; }
done
[ "$(id -u)" = 0 ] || { echo "SKIP disk-full: mounting the small tmpfs needs root"; exit 77; }
export VMTUI_HOME=$(mktemp -d)
export XDG_RUNTIME_DIR=$VMTUI_HOME/run
mkdir -p "$XDG_RUNTIME_DIR" "$VMTUI_HOME/small"
small=$VMTUI_HOME/small
mount -t tmpfs -o size=12m vmtui-disk-full "$small" || { echo "SKIP disk-full: cannot mount a tmpfs here"; exit 77; }
cleanup() {
    for vm in fullsata fullvirtio fullide reportsata reportvirtio reportide; do "$VMTUI" stop "$vm" --force >/dev/null 2>&1; done
    umount "$small"
    rm -rf "$VMTUI_HOME"
}
trap cleanup EXIT
failed=0
fail() { echo "FAIL disk-full: $*"; failed=1; }

# 256 chunks of 32 KiB: 8 MiB the guest writes, more than the 4 MiB left next to the filler.
nasm -f bin -i "$ROOT/Tests/guests/" -DCHUNKS=256 -o "$VMTUI_HOME/writer.img" "$ROOT/Tests/guests/disk-writer.asm" \
    || { echo "FAIL disk-full: nasm"; exit 1; }
truncate -s 1474560 "$VMTUI_HOME/writer.img"

# make_vm VM INTERFACE FORMAT: a fresh 64 MiB image on the small file system, the filler that
# leaves it 4 MiB, and a VM booting the writer from its floppy with the image on INTERFACE.
make_vm() {
    local vm=$1 interface=$2 format=$3
    image=$small/disk.$format
    qemu-img create -q -f "$format" "$image" 64M || { fail "qemu-img create $format"; return 1; }
    dd if=/dev/zero of="$small/filler" bs=1M count=8 status=none 2>/dev/null
    "$VMTUI" create "$vm" --memory 16 --floppy "$VMTUI_HOME/writer.img" --disk "$image" --disk-interface "$interface" \
        --boot floppy --network none >/dev/null || { fail "create $vm"; rm -f "$small/filler" "$image"; return 1; }
}

for case in "sata qcow2" "virtio vdi" "ide qcow2"; do
    set -- $case
    interface=$1 format=$2 vm=full$1
    make_vm "$vm" "$interface" "$format" || continue
    start=$(date +%s)
    "$VMTUI" start "$vm" >/dev/null || { fail "start $vm"; continue; }
    paused=
    for _ in $(seq 600); do
        if "$VMTUI" list | grep -qF "paused: host disk full ($image)"; then paused=yes; break; fi
        sleep 0.1
    done
    [ -n "$paused" ] || fail "$interface/$format: the VM did not pause on the full disk: $("$VMTUI" list; "$VMTUI" screen "$vm")"
    [ -n "$paused" ] && echo "ok disk-full $interface/$format: vmtui list shows 'paused: host disk full ($image)' after $(( $(date +%s) - start )) s"
    if "$VMTUI" screen "$vm" | grep -q "write failed"; then fail "$interface/$format: the guest saw a write error"; fi
    rm -f "$small/filler"
    "$VMTUI" resume "$vm" >/dev/null
    if "$VMTUI" wait "$vm" "disk writer done" --timeout 120 >/dev/null; then
        echo "ok disk-full $interface/$format: after resume the guest's writes completed with no error"
    else
        fail "$interface/$format: the writer did not finish after resume: $("$VMTUI" list; "$VMTUI" screen "$vm")"
    fi
    "$VMTUI" stop "$vm" --force >/dev/null
    if check=$(qemu-img check -f "$format" "$image" 2>&1); then
        echo "ok disk-full $interface/$format: qemu-img check is clean"
    else
        fail "$interface/$format: qemu-img check: $check"
    fi
    read=$(qemu-io -r -f "$format" -c "read -P 0x5a 0 8M" "$image" 2>&1)
    if [[ $read == *"read 8388608/8388608 bytes"* && $read != *"verification failed"* ]]; then
        echo "ok disk-full $interface/$format: all 8 MiB the guest wrote are in the image"
    else
        fail "$interface/$format: the image lacks some of the guest's writes: $read"
    fi
    rm -f "$image"
done

for case in "sata vdi" "virtio qcow2" "ide vdi"; do
    set -- $case
    interface=$1 format=$2 vm=report$1
    make_vm "$vm" "$interface" "$format" || continue
    "$VMTUI" set "$vm" disk-full=report >/dev/null || fail "$interface/$format: vmtui set $vm disk-full=report"
    "$VMTUI" show "$vm" | grep -q "host full: report" || fail "$interface/$format: vmtui show does not say 'host full: report'"
    "$VMTUI" start "$vm" >/dev/null || { fail "start $vm"; continue; }
    if "$VMTUI" wait "$vm" "disk writer: write failed" --timeout 60 >/dev/null; then
        echo "ok disk-full $interface/$format report: the guest's write failed with an I/O error"
    else
        fail "$interface/$format report: the guest saw no write error: $("$VMTUI" list; "$VMTUI" screen "$vm")"
    fi
    sleep 1
    state=$("$VMTUI" list | awk -v vm="$vm" '$1 == vm { print $2 }')
    if [ "$state" = running ] && ! "$VMTUI" list | grep -q "paused"; then
        echo "ok disk-full $interface/$format report: the VM was not paused and is still running"
    else
        fail "$interface/$format report: the VM is '$state', not running: $("$VMTUI" list)"
    fi
    # Powered off with the host disk still full: qcow2's L2 tables held in memory cannot all be
    # written back, so clusters the guest wrote (never flushed) may be left allocated but
    # unreferenced: leaks, qemu-img check's exit 3, no harm to other data (as QEMU at close).
    "$VMTUI" stop "$vm" --force >/dev/null
    rm -f "$small/filler"
    check=$(qemu-img check -f "$format" "$image" 2>&1)
    case $? in
        0) echo "ok disk-full $interface/$format report: qemu-img check is clean" ;;
        3) echo "ok disk-full $interface/$format report: qemu-img check finds only leaked clusters ($(grep -c '^Leaked' <<<"$check") of them)" ;;
        *) fail "$interface/$format report: qemu-img check: $check" ;;
    esac
    rm -f "$image"
done
exit $failed
