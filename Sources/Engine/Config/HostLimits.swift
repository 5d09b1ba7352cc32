import Foundation

/// What this host can give a VM; validation and the wizard enforce these bounds.
public struct HostLimits: Equatable, Sendable {
    public static let minimumMemoryMiB = MachineError.memoryRange.lowerBound
    public var memoryMiB: Int
    public var cpuCount: Int

    public init(memoryMiB: Int, cpuCount: Int) {
        self.memoryMiB = memoryMiB
        self.cpuCount = cpuCount
    }

    /// This machine: physical RAM and online CPUs.
    public static func current() -> HostLimits {
        let info = ProcessInfo.processInfo
        return HostLimits(memoryMiB: max(Int(info.physicalMemory >> 20), minimumMemoryMiB),
                          cpuCount: max(info.activeProcessorCount, 1))
    }

    /// The engine's limit (MachineError.memoryRange), and never more than host RAM.
    public var memoryRange: ClosedRange<Int> {
        HostLimits.minimumMemoryMiB...max(HostLimits.minimumMemoryMiB, min(memoryMiB, MachineError.memoryRange.upperBound))
    }

    /// Why memoryRange ends where it does, for error messages.
    public var memoryLimitReason: String {
        memoryRange.upperBound < memoryMiB ? "the most vmtui's engine gives a VM" : "this host's RAM"
    }
    /// xAPIC IDs 0-254 (0xFF is the broadcast ID); more vCPUs than host CPUs is allowed, as
    /// QEMU and VirtualBox allow it (they run slower; Machine warns).
    public static let maximumCPUCount = 255
    public var cpuRange: ClosedRange<Int> { 1...HostLimits.maximumCPUCount }
}
