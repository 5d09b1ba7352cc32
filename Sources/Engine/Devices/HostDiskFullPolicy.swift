/// What a disk does when a guest write finds the host file system full (ENOSPC or EDQUOT),
/// set per disk in config.json (`onHostDiskFull`) and by `vmtui set NAME disk-full=...`.
/// QEMU's werror=enospc is `pause`, werror=report is `report`.
public enum HostDiskFullPolicy: String, ConfigEnum {
    /// The VM pauses ("paused: host disk full (PATH)") and resume retries the write: the guest
    /// never sees an error.
    case pause
    /// The guest gets an I/O error for the write (ATA ABRT, virtio IOERR) and the VM runs on;
    /// the image is as if the write had not been issued.
    case report
}
