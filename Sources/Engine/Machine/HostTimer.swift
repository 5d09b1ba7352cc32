/// A one-shot timer on the host's monotonic clock, run on the HostIOThread that made it.
/// Arm it again to move it; a fired timer stays disarmed until armed again.
public final class HostTimer: @unchecked Sendable {
    let handler: @Sendable () -> Void
    /// Guarded by the thread's lock.
    var deadline: UInt64?
    private weak var thread: HostIOThread?

    init(thread: HostIOThread, handler: @escaping @Sendable () -> Void) {
        self.thread = thread
        self.handler = handler
    }

    /// Fires the handler at `deadline` (host monotonic nanoseconds, HostClock.monotonicNow()).
    public func arm(at deadline: UInt64) { thread?.setDeadline(self, deadline) }

    public func arm(after nanoseconds: UInt64) { arm(at: HostClock.monotonicNow() &+ nanoseconds) }

    public func cancel() { thread?.setDeadline(self, nil) }

    public var isArmed: Bool { thread?.deadline(of: self) != nil }
}
