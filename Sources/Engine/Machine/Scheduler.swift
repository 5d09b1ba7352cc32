/// A device with work to do at points in virtual time (PIT, RTC, UART, disk latency).
public protocol TimedDevice: AnyObject {
    /// The next instant (clock nanoseconds) this device wants `fire` called, or nil.
    func nextDeadline() -> UInt64?
    /// Called once the clock has reached the device's deadline.
    func fire(now: UInt64)
    /// Set by the scheduler: a device calls it with its new deadline when it arms a timer, so
    /// that a slice running toward a later deadline ends in time. A device without it is only
    /// looked at between slices.
    var deadlineArmed: ((UInt64) -> Void)? { get set }
}

extension TimedDevice {
    public var deadlineArmed: ((UInt64) -> Void)? {
        get { nil }
        set {}
    }
}

/// Asks every timed device for its next deadline and fires the due ones. The run loop runs the
/// CPU until the earliest deadline (halfix `pc.c`, v86 `timer(now)`).
public final class Scheduler {
    public let clock: MachineClock
    private var devices: [TimedDevice] = []
    /// The deadline the running (or halted) vCPU was given; 0 between slices, when the next
    /// slice looks at the timers itself.
    public var sliceDeadline: UInt64 = 0
    /// Called when a device arms a timer earlier than `sliceDeadline`: the machine kicks the vCPU.
    public var onEarlierDeadline: () -> Void = {}

    public init(clock: MachineClock) { self.clock = clock }

    public func add(_ device: TimedDevice) {
        device.deadlineArmed = { [unowned self] deadline in
            guard deadline < sliceDeadline else { return }
            sliceDeadline = deadline
            onEarlierDeadline()
        }
        devices.append(device)
    }

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
