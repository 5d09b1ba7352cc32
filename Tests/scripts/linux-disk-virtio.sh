#!/usr/bin/env bash
# Linux on virtio disks (issue 17): raw, qcow2 and VDI images on one controller, the right driver,
# ext2 made and a file written, `reboot -f`, the files read back on the second boot, and
# `qemu-img check` after power-off (Tests/guests/linux/disk-virtio.sh, Tests/scripts/lib/linux-disks.bash).
source "$(dirname "$0")/lib/linux-disks.bash"
linux_disks virtio disk-virtio
