#!/bin/sh
# The disk-ahci scenario on virtio-blk disks (vda, vdb, vdc on the virtio_blk driver).
exec /tests/disk-ahci virtio
