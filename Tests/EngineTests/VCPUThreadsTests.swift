import Foundation
import Testing
@testable import Engine

/// Virtualize's thread per vCPU, driven by stand-in vCPUs (no /dev/kvm needed): each thread's
/// CPU time is measured on its own, for the detail pane's per-CPU figures.
@Suite struct VCPUThreadsTests {
    /// Burns host CPU in `run` without the machine lock, as KVM_RUN does.
    final class SpinningVCPU: VCPU {
        let index: Int
        let lock: MachineLock
        let spin: Duration
        var registers = VCPURegisters()
        var instructionsRetired: UInt64? { nil }

        init(index: Int, lock: MachineLock, spin: Duration) {
            self.index = index
            self.lock = lock
            self.spin = spin
        }

        func run(until deadline: UInt64) -> VCPUExit {
            lock.unlock()
            defer { lock.lock() }
            let end = ContinuousClock.now + spin
            while ContinuousClock.now < end {}
            if spin == .zero { usleep(1000) }
            return .deadlineReached
        }

        func kick() {}
        func reset(_ kind: VCPUResetKind) {}
        func startup(vector: UInt8) {}
    }

    @Test func eachVCPUThreadsCPUTimeIsItsOwn() {
        let lock = MachineLock()
        // vCPU 0 spins, vCPU 1 mostly sleeps: their times must differ accordingly.
        let vcpus = [SpinningVCPU(index: 0, lock: lock, spin: .milliseconds(2)), SpinningVCPU(index: 1, lock: lock, spin: .zero)]
        let threads = VCPUThreads(lock: lock, vcpus: vcpus, timers: .init(deadline: { .max }, fire: {}))
        lock.withLock { threads.start() }
        Thread.sleep(forTimeInterval: 0.5)
        let times = lock.withLock { threads.cpuTimes() }
        lock.withLock { threads.stop() }
        #expect(times.count == 2)
        #expect(times[0] > 20_000_000, "the spinning vCPU's thread used \(times[0]) ns")
        #expect(times[1] < times[0] / 2, "the sleeping vCPU's thread used \(times[1]) ns against \(times[0]) ns")
        #expect(lock.withLock { threads.cpuTimes() } == [0, 0], "ended threads have no clock")
    }
}
