#!/bin/sh
# modules: virtio_pci virtio_blk crc32c_generic ext4
# The disk-ahci scenario on virtio-blk disks (vda, vdb, vdc on the virtio_blk driver).
exec /tests/disk-ahci virtio
