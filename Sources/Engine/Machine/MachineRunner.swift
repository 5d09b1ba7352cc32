/// The one run loop, for the console (VMSession) and headless runs (HeadlessRunner): runs the
/// machine on the calling thread with the machine lock held (the rule is in MachineLock),
/// calling `service` after every slice, also with the lock held, for the caller's host work
/// (input, the screen, requests). Slices end at the next timer deadline, a kick or a wake, so
/// `service` runs at least every `Machine.maxSliceNanoseconds` of machine time.
public final class MachineRunner {
    public let machine: Machine
    /// While set (or while the machine waits for host disk space), no guest code runs;
    /// `service` is still called every `pausedInterval`.
    public var paused = false
    public var pausedInterval: UInt64 = 20_000_000

    public init(machine: Machine) { self.machine = machine }

    /// Runs until the machine stops (returns why) or `service` returns false (returns nil).
    /// `service` gets the stop reason once the machine has stopped.
    public func run(_ service: (MachineStop?) -> Bool) -> MachineStop? {
        machine.lock.lock()
        defer {
            machine.stopVCPUThreads()
            machine.lock.unlock()
        }
        while true {
            var stop: MachineStop?
            if paused || machine.hostDiskFull != nil, machine.stopReason == nil {
                machine.holdVCPUs()
                machine.lock.wait(untilHostTime: HostClock.monotonicNow() &+ pausedInterval)
            } else {
                stop = machine.runSlice()
            }
            if !service(stop) { return stop }
            if let stop { return stop }
            machine.lock.yieldToWaiters()
        }
    }
}
