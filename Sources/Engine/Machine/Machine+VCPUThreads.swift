/// Virtualize's run loop body: the vCPUs run on threads of their own (VCPUThreads); this
/// thread, the machine's, sleeps to the next timer or wake, fires the timers, and handles what
/// the vCPUs reported and the requests (a reset holds every vCPU thread around it).
extension Machine {
    func runThreadedSlice(_ threads: VCPUThreads) -> MachineStop? {
        threads.start()
        scheduler.fireDue()
        waitForNextEvent()
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
}
