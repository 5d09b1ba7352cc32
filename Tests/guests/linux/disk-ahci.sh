#!/bin/sh
# modules: ahci sd_mod crc32c_generic ext4
# Disks on a controller (ahci by default; `disk-ahci virtio` for virtio-blk, which disk-virtio
# runs): three disks (raw, qcow2 and VDI images) on the right driver, an ext2 file system made
# on each with a file written, then `reboot -f`. Run again after the reboot (the file is there:
# the second boot), it reads each file back and powers off. PASS/FAIL lines on COM1, for
# Tests/scripts/disk-controllers.sh.
say() { echo "$*"; echo "$*" > /dev/ttyS0; }
# A FAIL line says what the command printed and what the kernel logged last: a lost write shows.
check() {
  if out=$(eval "$2" 2>&1); then say "PASS: $1"; else
    say "FAIL: $1: $(echo $out | cut -c1-200)"; dmesg | tail -n 8 > /dev/ttyS0
  fi
}
controller=${1:-ahci}
if [ "$controller" = virtio ]; then
  disks="vda vdb vdc"
  on_driver() { [ "$(basename "$(readlink /sys/block/$1/device/driver)")" = virtio_blk ]; }
else
  disks="sda sdb sdc"
  # The disk sits below the AHCI function at 00:04.0, which the ahci driver owns.
  on_driver() {
    readlink -f /sys/block/$1/device | grep -q 0000:00:04.0/ &&
      [ "$(basename "$(readlink /sys/bus/pci/devices/0000:00:04.0/driver)")" = ahci ]
  }
fi
# sd and virtio_blk probe asynchronously, so sda and sdc may swap names between boots: each
# file names the disk by its place (PCI function, then ATA port), which a reboot keeps.
place() { readlink -f /sys/block/$1/device | sed -e 's|/host[0-9]*/.*||' -e 's|/virtio[0-9]*$||' -e 's|.*/||'; }
name=disk-$controller
first=${disks%% *}
if mount -t ext2 /dev/$first /mnt 2>/dev/null; then
  [ -f /mnt/vmtui-file ] && second=yes
  umount /mnt
fi
if [ -z "$second" ]; then
  for d in $disks; do
    check "$name: /dev/$d present on the $controller driver" "on_driver $d"
    check "$name: mke2fs on /dev/$d" "mke2fs -q /dev/$d"
    check "$name: file written on /dev/$d" "mount -t ext2 /dev/$d /mnt && echo \"vmtui file on \$(place $d)\" > /mnt/vmtui-file && umount /mnt"
  done
  sync
  say "$name: first boot done, rebooting"
  reboot -f
  sleep 60
fi
say "$name: second boot"
for d in $disks; do
  check "$name: file read back from /dev/$d after the reboot" \
    "mount -t ext2 -o ro /dev/$d /mnt && [ \"\$(cat /mnt/vmtui-file)\" = \"vmtui file on \$(place $d)\" ] && umount /mnt"
done
say "$name: all done"
sync
poweroff -f
