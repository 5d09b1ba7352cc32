/// Where a guest cluster of a qcow2 image lives, decoded from its L2 entry.
enum QCOW2Mapping {
    /// Not in this image: read from the backing file, or zeros.
    case unallocated
    /// Reads as zeros; `host` is a preallocated cluster (or 0).
    case zero(host: UInt64, copied: Bool)
    /// A normal cluster; `copied` means its refcount is 1, so it may be written in place.
    case data(host: UInt64, copied: Bool)
    /// Deflate data starting at byte `offset`, spanning `sectors` 512-byte sectors.
    case compressed(offset: UInt64, sectors: Int)
}
