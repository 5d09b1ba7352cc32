#!/bin/sh
# modules: ahci sd_mod virtio_pci virtio_blk crc32c_generic ext4
# Disks on both controllers: three on AHCI (sda, sdb, sdc) and three on virtio-blk (vda, vdb,
# vdc), a raw, a qcow2 and a VDI image on each. First run: each on the right driver, an ext2
# file system made on each with a file written, then `reboot -f`. Run again after the reboot
# (the file is there: the second boot), it reads each file back and powers off. PASS/FAIL lines
# on COM1, for Tests/scripts/linux-disks.sh.
say() { echo "$*"; echo "$*" > /dev/ttyS0; }
# A FAIL line says what the command printed and what the kernel logged last: a lost write shows.
check() {
  if out=$(eval "$2" 2>&1); then say "PASS: $1"; else
    say "FAIL: $1: $(echo $out | cut -c1-200)"; dmesg | tail -n 8 > /dev/ttyS0
  fi
}
disks="sda sdb sdc vda vdb vdc"
# sdX sit below the AHCI function at 00:04.0, which the ahci driver owns; vdX on virtio_blk.
on_driver() {
  case $1 in
    sd*) readlink -f /sys/block/$1/device | grep -q 0000:00:04.0/ &&
           [ "$(basename "$(readlink /sys/bus/pci/devices/0000:00:04.0/driver)")" = ahci ] ;;
    *) [ "$(basename "$(readlink /sys/block/$1/device/driver)")" = virtio_blk ] ;;
  esac
}
driver() { case $1 in sd*) echo ahci ;; *) echo virtio_blk ;; esac; }
# sd and virtio_blk probe asynchronously, so sda and sdc may swap names between boots: each
# file names the disk by its place, the PCI function and the port on it, which a reboot keeps
# (not the ataN number: the second boot loads ata_piix too, which takes ata1 and ata2).
place() {
  path=$(readlink -f /sys/block/$1/device)
  ata=$(echo "$path" | sed -n 's|.*/\(ata[0-9]*\)/.*|\1|p')
  echo "$(echo "$path" | sed -n 's|.*/\(0000:[0-9a-f:.]*\)/.*|\1|p') port ${ata:+$(cat /sys/class/ata_port/$ata/port_no)}"
}
if mount -t ext2 /dev/sda /mnt 2>/dev/null; then
  [ -f /mnt/vmtui-file ] && second=yes
  umount /mnt
fi
if [ -z "$second" ]; then
  for d in $disks; do
    check "disks: /dev/$d present on the $(driver $d) driver" "on_driver $d"
    check "disks: mke2fs on /dev/$d" "mke2fs -q /dev/$d"
    check "disks: file written on /dev/$d" "mount -t ext2 /dev/$d /mnt && echo \"vmtui file on \$(place $d)\" > /mnt/vmtui-file && umount /mnt"
  done
  sync
  say "disks: first boot done, rebooting"
  reboot -f
  sleep 60
fi
say "disks: second boot"
for d in $disks; do
  check "disks: file read back from /dev/$d after the reboot" \
    "mount -t ext2 -o ro /dev/$d /mnt && [ \"\$(cat /mnt/vmtui-file)\" = \"vmtui file on \$(place $d)\" ] && umount /mnt"
done
say "disks: all done"
sync
poweroff -f
