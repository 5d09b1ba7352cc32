import CLinuxHost
#if canImport(Glibc)
import Glibc
#endif

/// An eventfd that one thread rings and another sleeps on beside a socket: a VM session rings
/// its control connections when it publishes news, so a key's echo goes out when it happens
/// instead of at the connection's next look.
final class Doorbell: Sendable {
    let fd: Int32

    /// nil when the process is out of descriptors (the connection then only polls).
    init?() {
        fd = lh_eventfd()
        guard fd >= 0 else { return nil }
    }

    deinit { close(fd) }

    func ring() {
        var one: UInt64 = 1
        _ = write(fd, &one, 8)
    }

    /// Clears the rings so far (the eventfd is non-blocking).
    func answer() {
        var count: UInt64 = 0
        _ = read(fd, &count, 8)
    }
}
