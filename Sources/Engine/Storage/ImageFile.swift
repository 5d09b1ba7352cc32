import CLinuxHost
import Glibc

/// The host file under a disk image: positional reads and writes that retry on EINTR and short
/// transfers, fsync, and errors that name the file. Owns the descriptor and its locks: an
/// flock (shared when read-only, exclusive when writable) so two writers cannot corrupt one
/// image, and the OFD byte locks QEMU takes (`ImageLock`), so qemu-img and QEMU see that
/// vmtui has the image open and vmtui sees theirs.
final class ImageFile {
    let path: String
    let isReadOnly: Bool
    private let fd: Int32
    /// Current length of the file in bytes, kept in step with our own writes.
    private(set) var length: UInt64

    /// What an image file did to its host file, for tests that replay crashes.
    enum Event {
        case write(path: String, offset: UInt64, bytes: [UInt8])
        case sync(path: String)
        case setLength(path: String, length: UInt64)
        case punchHole(path: String, offset: UInt64, count: UInt64)

        var path: String {
            switch self {
            case .write(let path, _, _), .sync(let path), .setLength(let path, _), .punchHole(let path, _, _): path
            }
        }
    }

    /// Told every completed write, fsync, length change and hole punch of every image file
    /// (the crash-consistency test records them); nil outside that test.
    nonisolated(unsafe) static var observer: ((Event) -> Void)?

    init(path: String, readOnly: Bool) throws(StorageError) {
        self.path = path
        self.isReadOnly = readOnly
        let fd = open(path, (readOnly ? O_RDONLY : O_RDWR) | O_CLOEXEC)
        guard fd >= 0 else { throw StorageError(path: path, problem: "cannot open: \(ImageFile.errnoText())") }
        self.fd = fd
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let text = ImageFile.errnoText()
            close(fd)
            throw StorageError(path: path, problem: "cannot stat: \(text)")
        }
        guard (st.st_mode & S_IFMT) == S_IFREG || (st.st_mode & S_IFMT) == S_IFBLK else {
            close(fd)
            throw StorageError(path: path, problem: "is not a regular file or block device")
        }
        length = UInt64(st.st_size)
        if !ImageFile.lock(fd, exclusive: !readOnly) {
            close(fd)
            throw StorageError(path: path, problem: "is in use by another process (close the VM or tool using it first)")
        }
        if let conflict = ImageLock.acquire(fd, writable: !readOnly) {
            close(fd)
            throw StorageError(path: path, problem: "is in use by another process (QEMU or a qemu tool holds its \"\(conflict)\" lock); close the VM or tool using it first")
        }
    }

    /// Takes the image's lock, waiting up to half a second: a process this one is starting holds
    /// copies of its descriptors (locks included) between fork and exec, so a file closed a
    /// moment ago can look busy for that long.
    private static func lock(_ fd: Int32, exclusive: Bool) -> Bool {
        for attempt in 0..<50 {
            if flock(fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) == 0 { return true }
            if attempt < 49 { usleep(10_000) }
        }
        return false
    }

    /// Creates (or truncates) a file for a new image.
    static func create(path: String) throws(StorageError) -> ImageFile {
        let fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw StorageError(path: path, problem: "cannot create: \(errnoText())") }
        close(fd)
        return try ImageFile(path: path, readOnly: false)
    }

    deinit { close(fd) }

    func error(_ problem: String) -> StorageError { StorageError(path: path, problem: problem) }

    /// Reads exactly `buffer.count` bytes at `offset`; bytes past the end of the file read as zeros.
    func read(at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(StorageError) {
        guard let base = buffer.baseAddress else { return }
        var done = 0
        while done < buffer.count {
            let n = pread(fd, base + done, buffer.count - done, off_t(offset + UInt64(done)))
            if n < 0 {
                if errno == EINTR { continue }
                throw error("read of \(buffer.count) bytes at \(storageHex(offset)) failed: \(ImageFile.errnoText())")
            }
            if n == 0 {
                (base + done).initializeMemory(as: UInt8.self, repeating: 0, count: buffer.count - done)
                return
            }
            done += n
        }
    }

    func read(at offset: UInt64, count: Int) throws(StorageError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        try bytes.withUnsafeMutableBufferPointer { (raw) throws(StorageError) in
            try read(at: offset, into: UnsafeMutableRawBufferPointer(raw))
        }
        return bytes
    }

    func write(at offset: UInt64, from buffer: UnsafeRawBufferPointer) throws(StorageError) {
        guard let base = buffer.baseAddress else { return }
        var done = 0
        while done < buffer.count {
            let n = pwrite(fd, base + done, buffer.count - done, off_t(offset + UInt64(done)))
            if n < 0 {
                if errno == EINTR { continue }
                if errno == ENOSPC || errno == EDQUOT {
                    throw StorageError(path: path, problem: "host disk full: write of \(buffer.count) bytes at \(storageHex(offset)) failed (\(ImageFile.errnoText())); free space on the host file system, then resume", kind: .hostDiskFull)
                }
                throw error("write of \(buffer.count) bytes at \(storageHex(offset)) failed: \(ImageFile.errnoText())")
            }
            done += n
        }
        length = max(length, offset + UInt64(buffer.count))
        ImageFile.observer?(.write(path: path, offset: offset, bytes: Array(buffer)))
    }

    func write(at offset: UInt64, bytes: [UInt8]) throws(StorageError) {
        try bytes.withUnsafeBufferPointer { (raw) throws(StorageError) in
            try write(at: offset, from: UnsafeRawBufferPointer(raw))
        }
    }

    /// fsync: everything written so far survives a crash or power loss.
    func sync() throws(StorageError) {
        while fsync(fd) != 0 {
            if errno == EINTR { continue }
            throw StorageError(path: path, problem: "fsync failed (\(ImageFile.errnoText())): writes since the last successful flush may be missing from the image; stop using it and run qemu-img check on it", kind: .flushFailed)
        }
        ImageFile.observer?(.sync(path: path))
    }

    /// Grows or shrinks the file; growing leaves a hole that reads as zeros.
    func setLength(_ newLength: UInt64) throws(StorageError) {
        while ftruncate(fd, off_t(newLength)) != 0 {
            if errno == EINTR { continue }
            throw error("cannot set the file length to \(newLength): \(ImageFile.errnoText())")
        }
        length = newLength
        ImageFile.observer?(.setLength(path: path, length: newLength))
    }

    /// Reserves host space for the whole file (posix_fallocate), so later writes cannot hit ENOSPC.
    func preallocate() throws(StorageError) {
        let rc = posix_fallocate(fd, 0, off_t(length))
        guard rc == 0 else { throw error("cannot reserve \(length) bytes: \(String(cString: strerror(rc)))") }
    }

    /// Frees the host blocks of [offset, offset + count) (a discarded range now reads as zeros).
    /// File systems without hole punching (EOPNOTSUPP) keep the data: discard is a hint.
    func punchHole(at offset: UInt64, count: UInt64) throws(StorageError) {
        guard count > 0 else { return }
        while lh_punch_hole(fd, off_t(offset), off_t(count)) != 0 {
            if errno == EINTR { continue }
            if errno == EOPNOTSUPP { return }
            throw error("cannot free \(count) bytes at \(storageHex(offset)): \(ImageFile.errnoText())")
        }
        ImageFile.observer?(.punchHole(path: path, offset: offset, count: count))
    }

    /// True when the byte range lies entirely in a hole of a sparse file (SEEK_DATA finds no data in it).
    func isHole(at offset: UInt64, count: Int) -> Bool {
        // SEEK_DATA is 3 on Linux; Glibc only declares it under _GNU_SOURCE, which Swift does not set.
        let data = lseek(fd, off_t(offset), 3)
        if data < 0 { return errno == ENXIO }  // no data at or after offset
        return UInt64(data) >= offset + UInt64(count)
    }

    /// Bytes the file really occupies on the host (holes excluded).
    var allocatedBytes: UInt64 {
        var st = stat()
        guard fstat(fd, &st) == 0 else { return 0 }
        return UInt64(st.st_blocks) * 512
    }

    static func errnoText() -> String { String(cString: strerror(errno)) }
}

/// `0x1f000`: offsets in messages, as qemu-img prints them.
func storageHex(_ value: UInt64) -> String { "0x" + String(value, radix: 16) }
