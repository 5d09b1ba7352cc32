import Foundation

/// Replaces a file so that readers see the old or the new contents, never a torn write,
/// even across a crash: write a temp file beside it, fsync, rename over, fsync the directory.
enum AtomicFile {
    static func write(_ data: Data, to url: URL) throws {
        let directory = url.deletingLastPathComponent().path
        let temp = "\(directory)/.\(url.lastPathComponent).\(getpid()).tmp"
        func fail(_ path: String) -> VMConfigError { .io(path: path, reason: String(cString: strerror(errno))) }
        let fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw fail(temp) }
        var ok = data.withUnsafeBytes { buffer -> Bool in
            var offset = 0
            while offset < buffer.count {
                let n = Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n < 0 { if errno == EINTR { continue }; return false }
                offset += n
            }
            return true
        }
        ok = ok && fsync(fd) == 0
        let error = fail(temp)
        close(fd)
        guard ok, rename(temp, url.path) == 0 else {
            unlink(temp)
            throw ok ? fail(url.path) : error
        }
        let dirfd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dirfd >= 0 { fsync(dirfd); close(dirfd) }
    }
}
