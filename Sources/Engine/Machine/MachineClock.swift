#if canImport(Glibc)
import Glibc
#endif

/// The machine's virtual time, in nanoseconds since power-on. Devices read it; the run loop
/// advances it. Realtime follows the host clock; deterministic derives it from instructions
/// retired, so tests are reproducible.
public protocol MachineClock: AnyObject {
    var nanoseconds: UInt64 { get }
}

/// A clock a test (or the deterministic run mode) advances by hand.
public final class ManualClock: MachineClock {
    public private(set) var nanoseconds: UInt64 = 0
    public init() {}
    public func advance(by ns: UInt64) { nanoseconds &+= ns }
    public func set(_ ns: UInt64) { nanoseconds = max(nanoseconds, ns) }
}

/// Host monotonic time since the clock was created; pausing stops it.
public final class HostClock: MachineClock {
    private var origin: UInt64
    private var pausedAt: UInt64?

    public init() { origin = HostClock.monotonicNow() }

    public var nanoseconds: UInt64 {
        (pausedAt ?? HostClock.monotonicNow()) &- origin
    }

    public func pause() { if pausedAt == nil { pausedAt = HostClock.monotonicNow() } }
    public func resume() {
        if let p = pausedAt { origin &+= HostClock.monotonicNow() &- p; pausedAt = nil }
    }

    public static func monotonicNow() -> UInt64 { nanoseconds(of: CLOCK_MONOTONIC) ?? 0 }

    /// A POSIX clock's reading in nanoseconds (CLOCK_MONOTONIC, a thread's CPU time); nil when
    /// the clock is gone (the CPU clock of a thread that ended).
    public static func nanoseconds(of clock: clockid_t) -> UInt64? {
        var ts = timespec()
        guard clock_gettime(clock, &ts) == 0 else { return nil }
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }
}
