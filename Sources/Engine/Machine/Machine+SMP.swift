import Foundation

/// Several CPUs. Emulate runs its vCPUs in turns on the machine's one thread (`runSlice`):
/// each gets a turn of at most `turnNanoseconds` of machine time, ending early at the next
/// timer, and a spin-wait (PAUSE) gives the rest of its turn away. Deterministic and simple:
/// guest memory needs no atomic LOCK, decoded code no cross-thread invalidation, devices no
/// lock of their own, and a run is reproducible. The cost: N busy vCPUs share one host CPU,
/// so each runs at 1/N of the interpreter's speed (the guest sees N slower CPUs, never more
/// throughput), and a vCPU waiting for another without PAUSE burns its turn. A single vCPU
/// pays only its turn bookkeeping (one check per turn). Virtualize runs a thread per vCPU
/// instead (Machine+VCPUThreads): KVM's vCPUs run in parallel on the host's CPUs.
extension Machine {
    /// Longest turn of one vCPU among several: short enough that a lock holder is back soon,
    /// long enough that turn switches stay rare against the work done.
    static let turnNanoseconds: UInt64 = 1_000_000

    /// Where the next vCPU's turn ends: the next timer, or the turn's (or a lone vCPU's slice's) length.
    func turnDeadline() -> UInt64 {
        let length = vcpus.count == 1 ? maxSliceNanoseconds : min(maxSliceNanoseconds, Machine.turnNanoseconds)
        let deadline = min(scheduler.nextDeadline() ?? .max, clock.nanoseconds &+ length)
        scheduler.sliceDeadline = deadline
        return deadline
    }

    /// What the user should know about the CPU count.
    static func cpuCountWarnings(_ config: VMConfig) -> [String] {
        var warnings: [String] = []
        let host = ProcessInfo.processInfo.activeProcessorCount
        if config.cpuCount > host {
            warnings.append("\(config.cpuCount) vCPUs on a host with \(host) CPUs: they share the host's CPUs and each runs slower")
        }
        return warnings
    }
}
