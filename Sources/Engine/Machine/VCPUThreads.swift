import Foundation

/// Virtualize runs every vCPU on a thread of its own, as QEMU does: the thread calls the
/// backend's `run` (KVM_RUN, without the machine lock) and handles port and MMIO exits with the
/// lock held. The bootstrap processor's thread also fires the device timers: it runs to the
/// next deadline and fires what is due, so a timer costs that thread one exit and no handoff
/// of the lock to another thread (firing them on the machine's thread doubled the time vCPU 0
/// waited for the lock in the nested test host). The machine's thread keeps the host side and
/// the requests (reset, power-off). The threads never touch the Machine itself: an exit it must
/// see (a triple fault, an internal error) waits here, its vCPU parked, until the machine's
/// thread takes it. They run only while the machine lets them: `hold` parks them all (reset,
/// pause), `stop` ends them.
final class VCPUThreads: @unchecked Sendable {
    /// The machine's timers, called with the lock held on the bootstrap processor's thread:
    /// `deadline` is the next one (the running vCPU's slice deadline), `fire` fires the due ones.
    struct Timers {
        let deadline: () -> UInt64
        let fire: () -> Void
    }

    private let lock: MachineLock
    private let vcpus: [VCPU]
    private let timers: Timers
    // All below are protected by the machine lock.
    private var holdRequested = false
    private var quitting = false
    /// Threads started and not yet ended, and how many of them are parked.
    private var alive = 0
    private var parked = 0
    /// Exits for the machine, by vCPU: that vCPU stays parked until `release(clearingExits:)`.
    private var exits: [VCPUExit?]
    /// Each running thread's CPU-time clock, by vCPU (the VM's per-CPU figures).
    private var cpuClocks: [clockid_t?]

    init(lock: MachineLock, vcpus: [VCPU], timers: Timers) {
        self.lock = lock
        self.vcpus = vcpus
        self.timers = timers
        exits = Array(repeating: nil, count: vcpus.count)
        cpuClocks = Array(repeating: nil, count: vcpus.count)
    }

    /// With the lock held: the CPU time (ns) each vCPU's thread has used; 0 for one not running.
    func cpuTimes() -> [UInt64] { cpuClocks.map { $0.flatMap(HostClock.nanoseconds) ?? 0 } }

    var running: Bool { alive > 0 }

    /// With the lock held: starts a thread per vCPU (if none runs) and lets them run.
    func start() {
        if alive == 0 {
            quitting = false
            alive = vcpus.count
            for index in vcpus.indices {
                let thread = Thread { [self] in loop(index) }
                thread.name = "vCPU \(index)"
                thread.stackSize = 1 << 20
                thread.start()
            }
        }
        release()
    }

    /// With the lock held: the exits the machine must handle, (vCPU index, exit).
    func takeExits() -> [(Int, VCPUExit)] {
        exits.indices.compactMap { index in exits[index].map { (index, $0) } }
    }

    /// With the lock held: every vCPU out of the guest and parked on return (each finishes the
    /// exit it is handling first; the lock is let go meanwhile).
    func hold() {
        holdRequested = true
        for vcpu in vcpus { vcpu.kick() }
        while parked < alive { lock.waitForChange() }
    }

    /// With the lock held: the parked vCPUs run again; `clearingExits` after a reset, whose
    /// power-on state replaces what they stopped for.
    func release(clearingExits: Bool = false) {
        if clearingExits { exits = Array(repeating: nil, count: vcpus.count) }
        guard holdRequested || clearingExits else { return }
        holdRequested = false
        lock.broadcast()
    }

    /// With the lock held: ends every thread and waits until they have let go of the vCPUs.
    func stop() {
        quitting = true
        for vcpu in vcpus { vcpu.kick() }
        lock.broadcast()
        while alive > 0 { lock.waitForChange() }
    }

    private func mayRun(_ index: Int) -> Bool { !holdRequested && exits[index] == nil }

    private func loop(_ index: Int) {
        let vcpu = vcpus[index]
        lock.lock()
        var clock = clockid_t()
        if pthread_getcpuclockid(pthread_self(), &clock) == 0 { cpuClocks[index] = clock }
        while !quitting {
            guard mayRun(index) else {
                parked += 1
                lock.broadcast()
                while !mayRun(index) && !quitting { lock.waitForChange() }
                parked -= 1
                continue
            }
            let exit = vcpu.run(until: index == 0 ? timers.deadline() : .max)
            if index == 0 { timers.fire() }
            switch exit {
            case .deadlineReached, .kicked, .halted, .haltedForever:
                break // HLT waits in the kernel
            case let exit:
                exits[index] = exit
                lock.signalWake()
            }
        }
        cpuClocks[index] = nil
        alive -= 1
        lock.broadcast()
        lock.unlock()
    }
}
