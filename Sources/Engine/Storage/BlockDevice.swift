/// Errors of disk images and block devices: each names the file and the problem.
public struct StorageError: Error, CustomStringConvertible, Equatable {
    public let path: String
    public let problem: String
    public init(path: String, problem: String) {
        self.path = path
        self.problem = problem
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
}
