/// A device with work to do at points in virtual time (PIT, RTC, UART, disk latency).
public protocol TimedDevice: AnyObject {
    /// The next instant (clock nanoseconds) this device wants `fire` called, or nil.
    func nextDeadline() -> UInt64?
    /// Called once the clock has reached the device's deadline.
    func fire(now: UInt64)
}

/// Asks every timed device for its next deadline and fires the due ones. The run loop runs the
/// CPU until the earliest deadline (halfix `pc.c`, v86 `timer(now)`).
public final class Scheduler {
    public let clock: MachineClock
    private var devices: [TimedDevice] = []

    public init(clock: MachineClock) { self.clock = clock }

    public func add(_ device: TimedDevice) { devices.append(device) }

    /// The earliest deadline of any device, or nil when nothing is pending.
    public func nextDeadline() -> UInt64? {
        var earliest: UInt64?
        for device in devices {
            if let d = device.nextDeadline(), d < (earliest ?? .max) { earliest = d }
        }
        return earliest
    }

    /// Fires every device whose deadline has passed.
    public func fireDue() {
        let now = clock.nanoseconds
        for device in devices {
            if let d = device.nextDeadline(), d <= now { device.fire(now: now) }
        }
    }
}
