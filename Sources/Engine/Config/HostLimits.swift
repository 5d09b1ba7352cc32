import Foundation

/// What this host can give a VM; validation and the wizard enforce these bounds.
public struct HostLimits: Equatable, Sendable {
    public static let minimumMemoryMiB = 4
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

    public var memoryRange: ClosedRange<Int> { HostLimits.minimumMemoryMiB...memoryMiB }
    public var cpuRange: ClosedRange<Int> { 1...cpuCount }
}
