import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The lock a running VM holds on its bundle (flock on NAME.vmtui/.lock), so that a VM without
/// disk images is protected too: no other process deletes or starts it while it runs. The
/// kernel drops the lock when the process ends, however it ends.
public final class BundleLock {
    private let fd: Int32

    private init(fd: Int32) { self.fd = fd }

    deinit { close(fd) }

    static func file(_ bundle: URL) -> String { bundle.appendingPathComponent(".lock").path }

    /// Takes the lock; nil when another process holds it.
    public static func acquire(bundle: URL) throws -> BundleLock? {
        let path = file(bundle)
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw VMConfigError.io(path: path, reason: "cannot open the bundle lock: \(String(cString: strerror(errno)))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            return nil
        }
        return BundleLock(fd: fd)
    }

    /// Whether some process (this one included) holds the bundle's lock.
    public static func isHeld(bundle: URL) -> Bool {
        let fd = open(file(bundle), O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK
    }
}
