/// How a running VM is doing, measured on its engine thread about twice a second.
public struct VMStats: Equatable, Sendable {
    /// Time the guest has run (pauses excluded).
    public var uptimeNanoseconds: UInt64 = 0
    public var instructionsRetired: UInt64 = 0
    /// Guest instructions per second, in millions, over the last measurement window.
    public var mips: Double = 0
    /// Each vCPU's part of `mips`, in vCPU order; empty where the backend cannot count (KVM).
    public var mipsPerCPU: [Double] = []
    /// False where the backend cannot count instructions (KVM): `mips` means nothing then.
    public var countsInstructions = true
    /// CPU time of the engine thread and of the vCPU threads (Virtualize) as a share of one
    /// host core: above 100 with several busy vCPU threads, as top shows it.
    public var cpuPercent: Double = 0
    /// Each vCPU thread's share of `cpuPercent`, in vCPU order (Virtualize; empty in Emulate,
    /// whose vCPUs take turns on the engine thread).
    public var cpuPercentPerCPU: [Double] = []
    /// Bytes per second over the window, from the machine's `IOCounters`: disks (IDE, ATAPI,
    /// AHCI, virtio) read and written, network frames the guest received and sent.
    public var diskReadRate: Double = 0
    public var diskWriteRate: Double = 0
    public var networkReceiveRate: Double = 0
    public var networkSendRate: Double = 0

    public init() {}

    /// Each vCPU's figure, one short line (the detail pane's Per CPU row): its MIPS in Emulate,
    /// "#0 52.1  #1 48.3 MIPS", its thread's CPU use in Virtualize, "#0 97%  #1 3% CPU"; nil
    /// with fewer than two vCPUs measured.
    public var perCPUText: String? {
        if mipsPerCPU.count > 1 {
            return mipsPerCPU.enumerated().map { "#\($0.offset) " + VMStats.mipsText($0.element) }.joined(separator: "  ") + " MIPS"
        }
        guard cpuPercentPerCPU.count > 1 else { return nil }
        return cpuPercentPerCPU.enumerated().map { "#\($0.offset) \(Int($0.element.rounded()))%" }.joined(separator: "  ") + " CPU"
    }

    /// Two decimals below 10 MIPS (a halted guest's trickle), one above.
    public static func mipsText(_ mips: Double) -> String {
        mips < 10 ? String(format: "%.2f", mips) : String(format: "%.1f", mips)
    }

    /// Uptime as H:MM:SS.
    public var uptimeText: String {
        let seconds = uptimeNanoseconds / 1_000_000_000
        let m = (seconds / 60) % 60, s = seconds % 60
        return "\(seconds / 3600):" + (m < 10 ? "0" : "") + "\(m):" + (s < 10 ? "0" : "") + "\(s)"
    }

    /// The disk rates, one short line (the detail pane's Disk I/O row).
    public var diskText: String {
        "\(VMStats.rateText(diskReadRate)) read, \(VMStats.rateText(diskWriteRate)) written"
    }

    /// The network rates, one short line (the detail pane's Net I/O row).
    public var networkText: String {
        "\(VMStats.rateText(networkReceiveRate)) in, \(VMStats.rateText(networkSendRate)) out"
    }

    /// A rate in bytes per second with a decimal unit (B/s, kB/s, MB/s, GB/s), as iostat and top print.
    public static func rateText(_ bytesPerSecond: Double) -> String {
        var value = max(0, bytesPerSecond)
        var units = ["B/s", "kB/s", "MB/s", "GB/s"][...]
        while value >= 999.5, units.count > 1 {
            value /= 1000
            units = units.dropFirst()
        }
        let unit = units.first!
        // One decimal below 10 of a scaled unit ("1.5 MB/s"); whole numbers otherwise.
        return unit != "B/s" && value < 9.95 ? String(format: "%.1f ", value) + unit : "\(Int(value.rounded())) \(unit)"
    }
}
