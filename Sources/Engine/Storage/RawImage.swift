/// A raw image: the guest's disk byte for byte, as a sparse file (holes cost no host space).
public final class RawImage: DiskImageFile {
    let file: ImageFile
    public var path: String { file.path }
    public var format: VMConfig.DiskFormat { .raw }
    public var size: UInt64 { file.length }
    public var isReadOnly: Bool { file.isReadOnly }

    init(file: ImageFile) { self.file = file }

    static func create(path: String, size: UInt64, preallocate: Bool) throws(StorageError) -> RawImage {
        let file = try ImageFile.create(path: path)
        try file.setLength(size)
        if preallocate { try file.preallocate() }
        try file.sync()
        return RawImage(file: file)
    }

    public var info: DiskImageInfo {
        DiskImageInfo(path: path, format: .raw, virtualSize: size, fileSize: file.length,
                      allocatedBytes: file.allocatedBytes, clusterSize: nil, details: [])
    }

    public func read(at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(StorageError) {
        try checkAccess(at: offset, count: buffer.count, write: false)
        try file.read(at: offset, into: buffer)
    }

    public func write(at offset: UInt64, from buffer: UnsafeRawBufferPointer) throws(StorageError) {
        try checkAccess(at: offset, count: buffer.count, write: true)
        try file.write(at: offset, from: buffer)
    }

    public var supportsDiscard: Bool { !isReadOnly }

    /// Punches the range out of the file (the whole 4 KiB host blocks inside it are freed).
    public func discard(at offset: UInt64, count: UInt64) throws(StorageError) {
        try checkAccess(at: offset, count: Int(clamping: count), write: true)
        try file.punchHole(at: offset, count: count)
    }

    public func readsAsZeros(at offset: UInt64, count: Int) throws(StorageError) -> Bool {
        file.isHole(at: offset, count: count)
    }

    public func flush() throws(StorageError) {
        guard !isReadOnly else { return }
        try file.sync()
    }

    public func resize(to newSize: UInt64) throws(StorageError) {
        try checkResize(to: newSize)
        try file.setLength(newSize)
        try file.sync()
    }
}
