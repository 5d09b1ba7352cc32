/// Page-aligned host memory that backs guest-visible ROM or device memory through
/// `MemoryMap.setPages`. It must outlive every mapping of it, so the machine owns it.
public final class HostBuffer {
    public let pointer: UnsafeMutableRawPointer
    public let count: Int

    /// Zero-filled, rounded up to whole pages; `bytes` is copied to the start.
    public init(count requested: Int, bytes: [UInt8] = []) {
        count = max(MemoryMap.pageSize, (max(requested, bytes.count) + MemoryMap.pageSize - 1) & ~(MemoryMap.pageSize - 1))
        pointer = .allocate(byteCount: count, alignment: MemoryMap.pageSize)
        pointer.initializeMemory(as: UInt8.self, repeating: 0, count: count)
        bytes.withUnsafeBytes { pointer.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
    }

    deinit { pointer.deallocate() }

    public subscript(offset: Int) -> UInt8 {
        get { pointer.load(fromByteOffset: offset, as: UInt8.self) }
        set { pointer.storeBytes(of: newValue, toByteOffset: offset, as: UInt8.self) }
    }
}
