import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A Unix stream socket (the control socket and its connections). Owns its descriptor
/// (close-on-exec); EINTR is retried here, nowhere else.
public final class UnixSocket: @unchecked Sendable {
    public let fd: Int32

    private init(fd: Int32) { self.fd = fd }

    deinit { close(fd) }

    /// Who is on the other end (SO_PEERCRED).
    public struct Peer: Sendable {
        public var pid: Int32
        public var uid: UInt32
    }

    /// Listens at `path` (a stale socket there is replaced), mode 0600.
    public static func listen(path: String) throws -> UnixSocket {
        let socket = try make()
        unlink(path)
        var address = try address(path)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket.fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0, chmod(path, 0o600) == 0, Glibc.listen(socket.fd, 16) == 0 else {
            throw ControlProtocolError.closed("cannot listen on \(path): \(String(cString: strerror(errno)))")
        }
        return socket
    }

    /// Connects to the socket at `path`.
    public static func connect(path: String) throws -> UnixSocket {
        let socket = try make()
        var address = try address(path)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(socket.fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard result == 0 else {
            throw ControlProtocolError.closed("cannot connect to \(path): \(String(cString: strerror(errno)))")
        }
        return socket
    }

    private static func make() throws -> UnixSocket {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw ControlProtocolError.closed("cannot create a Unix socket: \(String(cString: strerror(errno)))") }
        return UnixSocket(fd: fd)
    }

    private static func address(_ path: String) throws -> sockaddr_un {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard bytes.count < capacity else {
            throw ControlProtocolError.closed("the socket path \(path) is longer than \(capacity - 1) bytes: set XDG_RUNTIME_DIR to a shorter directory")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        return address
    }

    /// The next connection; nil when the listener was shut down.
    public func accept() -> UnixSocket? {
        while true {
            let client = Glibc.accept(fd, nil, nil)
            if client >= 0 {
                _ = fcntl(client, F_SETFD, FD_CLOEXEC)
                return UnixSocket(fd: client)
            }
            if errno == EINTR || errno == ECONNABORTED { continue }
            return nil
        }
    }

    /// Wakes a thread blocked in `accept` or `read` on this socket.
    public func shutdown() { _ = Glibc.shutdown(fd, Int32(SHUT_RDWR)) }

    /// Sends end-of-stream after what was written; the peer reads it all, then closes its side.
    public func finishWriting() { _ = Glibc.shutdown(fd, Int32(SHUT_WR)) }

    public var peer: Peer? {
        // struct ucred { pid_t pid; uid_t uid; gid_t gid; }: glibc declares it only under _GNU_SOURCE.
        var credentials = (pid: Int32(0), uid: UInt32(0), gid: UInt32(0))
        var length = socklen_t(MemoryLayout.size(ofValue: credentials))
        guard getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) == 0, length == 12 else { return nil }
        return Peer(pid: credentials.pid, uid: credentials.uid)
    }

    /// A write that takes longer than this (a client that stopped reading) fails instead of blocking.
    public func setSendTimeout(seconds: Int) {
        var timeout = timeval(tv_sec: seconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Writes everything; false when the peer is gone or stopped reading.
    @discardableResult
    public func write(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL)) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { return false }
            offset += n
        }
        return true
    }

    /// Waits up to `milliseconds` (-1: forever) for something to read; true when there is (or EOF).
    public func waitReadable(milliseconds: Int32) -> Bool {
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        while true {
            let n = poll(&entry, 1, milliseconds)
            if n < 0, errno == EINTR { continue }
            return n > 0
        }
    }

    /// As `waitReadable`, but a ring of `doorbell` also ends the wait (and is answered).
    func waitReadable(milliseconds: Int32, or doorbell: Doorbell) -> Bool {
        var entries = [pollfd(fd: fd, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: doorbell.fd, events: Int16(POLLIN), revents: 0)]
        while true {
            let n = poll(&entries, 2, milliseconds)
            if n < 0, errno == EINTR { continue }
            if entries[1].revents != 0 { doorbell.answer() }
            return n > 0 && entries[0].revents != 0
        }
    }

    /// What has arrived, up to 64 KiB; empty at end of stream or on an error.
    public func read() -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
            if n < 0, errno == EINTR { continue }
            return n > 0 ? Array(buffer[0..<n]) : []
        }
    }
}
