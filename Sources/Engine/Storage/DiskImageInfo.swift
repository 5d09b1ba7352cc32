/// A summary of an image file: what the guest sees and what the host pays for it.
public struct DiskImageInfo: Equatable, Sendable {
    public var path: String
    public var format: VMConfig.DiskFormat
    /// The disk size the guest sees.
    public var virtualSize: UInt64
    /// Length of the image file.
    public var fileSize: UInt64
    /// Host disk space the file really uses (holes and unallocated clusters cost nothing).
    public var allocatedBytes: UInt64
    /// Allocation unit: qcow2 cluster or VDI block; nil for raw.
    public var clusterSize: Int?
    /// Format-specific facts, one `name: value` per line (version, backing file, snapshots...).
    public var details: [String]

    public init(path: String, format: VMConfig.DiskFormat, virtualSize: UInt64, fileSize: UInt64,
                allocatedBytes: UInt64, clusterSize: Int?, details: [String]) {
        self.path = path
        self.format = format
        self.virtualSize = virtualSize
        self.fileSize = fileSize
        self.allocatedBytes = allocatedBytes
        self.clusterSize = clusterSize
        self.details = details
    }
}
