/// Virtualize's run loop body: the vCPUs run on threads of their own (VCPUThreads), the
/// bootstrap processor's firing the timers; this thread, the machine's, sleeps until a wake or
/// `threadedSliceNanoseconds` (the caller's host work), and handles what the vCPUs reported
/// and the requests (a reset holds every vCPU thread around it).
extension Machine {
    /// How long this thread sleeps between looks at the host side, unless woken: every look
    /// holds the lock (a headless run reads the screen), which a vCPU thread with an exit to
    /// handle then waits for.
    static let threadedSliceNanoseconds: UInt64 = 40_000_000

    func runThreadedSlice(_ threads: VCPUThreads) -> MachineStop? {
        threads.start()
        lock.wait(untilHostTime: HostClock.monotonicNow() &+ Machine.threadedSliceNanoseconds)
        for (index, exit) in threads.takeExits() where stopReason == nil {
            if case .internalError(let what, let registers) = exit, vcpus.count > 1 {
                record(.internalError("vCPU \(index): \(what)", registers: registers))
            } else {
                record(exit)
            }
        }
        handleRequests()
        if stopReason != nil { threads.stop() }
        return stopReason
    }

    /// With the lock held: parks every vCPU thread (a pause, a host disk full); the next slice
    /// lets them run again.
    public func holdVCPUs() { vcpuThreads?.hold() }

    /// With the lock held: ends the vCPU threads (the run loop returns); a later slice starts
    /// new ones where the vCPUs stopped.
    public func stopVCPUThreads() { vcpuThreads?.stop() }

    /// With the lock held: the CPU time (ns) each vCPU's thread has used, or nil where the
    /// vCPUs take turns on the machine's thread (Emulate).
    public var vcpuThreadCPUTimes: [UInt64]? { vcpuThreads?.cpuTimes() }
}
