/// Choices for a new image beyond format and size; the defaults match `qemu-img create`.
public struct DiskCreateOptions: Equatable, Sendable {
    /// qcow2 version: 3 (QEMU 1.1 and later, "compat=1.1") or 2 ("compat=0.10").
    public var qcow2Version: UInt32
    /// qcow2 cluster size in bytes, a power of two from 512 to 2 MiB.
    public var qcow2ClusterSize: Int
    /// Allocate every block up front: a fixed-size VDI, or a raw file without holes.
    public var preallocate: Bool

    public init(qcow2Version: UInt32 = 3, qcow2ClusterSize: Int = 65536, preallocate: Bool = false) {
        self.qcow2Version = qcow2Version
        self.qcow2ClusterSize = qcow2ClusterSize
        self.preallocate = preallocate
    }
}
