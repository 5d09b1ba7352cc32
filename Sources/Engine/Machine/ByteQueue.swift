import Synchronization

/// Bytes handed from one thread to another (stdin to COM1, guest serial to a view).
public final class ByteQueue: Sendable {
    private let bytes = Mutex<[UInt8]>([])
    public init() {}
    public func append(_ more: [UInt8]) { bytes.withLock { $0 += more } }
    /// Everything queued so far, emptying the queue.
    public func drain() -> [UInt8] {
        bytes.withLock { b in
            defer { b = [] }
            return b
        }
    }
}
