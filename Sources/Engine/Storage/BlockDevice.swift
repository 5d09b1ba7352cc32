/// Errors of disk images and block devices: each names the file and the problem.
public struct StorageError: Error, CustomStringConvertible, Equatable {
    /// What a controller does with the failure.
    public enum Kind: Sendable, Equatable {
        /// Reported to the guest as an I/O error.
        case failed
        /// The host file system is full (ENOSPC) or the user is over quota (EDQUOT): nothing of
        /// the write is acknowledged and the image's tables do not point at it, so the same
        /// request can be retried once space is freed (QEMU's werror=enospc).
        case hostDiskFull
        /// fsync failed: the kernel may have dropped the dirty pages, so retrying proves
        /// nothing; writes since the last good flush may be missing from the image.
        case flushFailed
    }

    public let path: String
    public let problem: String
    public let kind: Kind

    public init(path: String, problem: String, kind: Kind = .failed) {
        self.path = path
        self.problem = problem
        self.kind = kind
    }

    public var description: String { "\(path): \(problem)" }
}

/// A virtual disk: raw, qcow2 or VDI behind one interface. Offsets and lengths are in bytes
/// and sector-aligned (512) by the callers (IDE, ATAPI uses 2048-byte multiples).
public protocol BlockDevice: AnyObject {
    /// Virtual size in bytes as the guest sees it.
    var size: UInt64 { get }
    var isReadOnly: Bool { get }
    func read(at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(StorageError)
    func write(at offset: UInt64, from buffer: UnsafeRawBufferPointer) throws(StorageError)
    /// Makes every acknowledged write durable (the guest's FLUSH CACHE): fsync.
    func flush() throws(StorageError)
    /// Whether `discard` gives host space back (controllers offer TRIM/DISCARD only then).
    var supportsDiscard: Bool { get }
    /// The guest no longer needs [offset, offset + count) (TRIM, virtio DISCARD): the whole
    /// clusters or blocks inside it are released and read as zeros afterwards; partial ones
    /// may keep their data, as discard is only a hint.
    func discard(at offset: UInt64, count: UInt64) throws(StorageError)
}

extension BlockDevice {
    public var supportsDiscard: Bool { false }
    public func discard(at offset: UInt64, count: UInt64) throws(StorageError) {}
}
