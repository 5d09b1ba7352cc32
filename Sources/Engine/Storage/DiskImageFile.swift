/// A disk image file opened by `DiskImage`: a `BlockDevice` that can also describe itself and grow.
public protocol DiskImageFile: BlockDevice {
    var path: String { get }
    var format: VMConfig.DiskFormat { get }
    /// What `vmtui disk info` and the VM details pane show.
    var info: DiskImageInfo { get }
    /// True when `count` bytes at `offset` are known to read as zeros without reading data
    /// (unallocated, zero clusters, holes); false when unknown. Lets copies skip empty space.
    func readsAsZeros(at offset: UInt64, count: Int) throws(StorageError) -> Bool
    /// Grows the virtual disk to `newSize` bytes; shrinking is refused (it would cut off guest data).
    func resize(to newSize: UInt64) throws(StorageError)
}
