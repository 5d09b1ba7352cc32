#if canImport(Glibc)
import Glibc
#endif

/// A raw disk or floppy image file as a BlockDevice (pread/pwrite/fsync). Opened read/write
/// when the file allows it, read-only otherwise (or when asked).
public final class RawFileDisk: BlockDevice {
    public let path: String
    public let size: UInt64
    public let isReadOnly: Bool
    private let fd: Int32

    public init(path: String, readOnly: Bool = false) throws(StorageError) {
        self.path = path
        var mode = readOnly ? O_RDONLY : O_RDWR
        var descriptor = open(path, mode | O_CLOEXEC)
        if descriptor < 0 && !readOnly && (errno == EACCES || errno == EROFS) {
            mode = O_RDONLY
            descriptor = open(path, mode | O_CLOEXEC)
        }
        guard descriptor >= 0 else {
            throw StorageError(path: path, problem: "cannot open image: \(String(cString: strerror(errno)))")
        }
        var st = stat()
        guard fstat(descriptor, &st) == 0 else {
            close(descriptor)
            throw StorageError(path: path, problem: "cannot stat image: \(String(cString: strerror(errno)))")
        }
        fd = descriptor
        size = UInt64(st.st_size)
        isReadOnly = mode == O_RDONLY
    }

    deinit { close(fd) }

    public func read(at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(StorageError) {
        var done = 0
        while done < buffer.count {
            let n = pread(fd, buffer.baseAddress! + done, buffer.count - done, off_t(offset) + off_t(done))
            if n < 0 && errno == EINTR { continue }
            if n < 0 { throw StorageError(path: path, problem: "read failed: \(String(cString: strerror(errno)))") }
            if n == 0 { // past the end of a short image: zeros, as a sparse tail
                (buffer.baseAddress! + done).initializeMemory(as: UInt8.self, repeating: 0, count: buffer.count - done)
                return
            }
            done += n
        }
    }

    public func write(at offset: UInt64, from buffer: UnsafeRawBufferPointer) throws(StorageError) {
        guard !isReadOnly else { throw StorageError(path: path, problem: "image is read-only") }
        var done = 0
        while done < buffer.count {
            let n = pwrite(fd, buffer.baseAddress! + done, buffer.count - done, off_t(offset) + off_t(done))
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { throw StorageError(path: path, problem: "write failed: \(String(cString: strerror(errno)))") }
            done += n
        }
    }

    public func flush() throws(StorageError) {
        guard fsync(fd) == 0 || isReadOnly else {
            throw StorageError(path: path, problem: "fsync failed: \(String(cString: strerror(errno)))")
        }
    }
}
