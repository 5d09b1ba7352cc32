#if canImport(Glibc)
import Glibc
#endif

/// The descriptors one iteration of the HostIOThread waits on: registered ones and those a
/// HostIOPoller adds for this iteration only (libslirp's sockets change every time).
public struct HostPollSet {
    public private(set) var descriptors: [pollfd] = []

    /// Adds `fd` with poll(2) `events`; returns its index for `returnedEvents(at:)`.
    @discardableResult
    public mutating func add(_ fd: Int32, events: Int16) -> Int {
        descriptors.append(pollfd(fd: fd, events: events, revents: 0))
        return descriptors.count - 1
    }

    /// What poll(2) reported for the descriptor at `index` (0 for an index never added).
    public func returnedEvents(at index: Int) -> Int16 {
        descriptors.indices.contains(index) ? descriptors[index].revents : 0
    }

    mutating func wait(timeoutMilliseconds: Int32) -> Int32 {
        descriptors.withUnsafeMutableBufferPointer { poll($0.baseAddress, nfds_t($0.count), timeoutMilliseconds) }
    }
}
