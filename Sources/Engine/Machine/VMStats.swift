/// How a running VM is doing, measured on its engine thread about twice a second.
public struct VMStats: Equatable, Sendable {
    /// Time the guest has run (pauses excluded).
    public var uptimeNanoseconds: UInt64 = 0
    public var instructionsRetired: UInt64 = 0
    /// Guest instructions per second, in millions, over the last measurement window.
    public var mips: Double = 0
    /// CPU time of the engine thread as a share of one host core, 0-100.
    public var cpuPercent: Double = 0

    public init() {}

    /// Uptime as H:MM:SS.
    public var uptimeText: String {
        let seconds = uptimeNanoseconds / 1_000_000_000
        let m = (seconds / 60) % 60, s = seconds % 60
        return "\(seconds / 3600):" + (m < 10 ? "0" : "") + "\(m):" + (s < 10 ? "0" : "") + "\(s)"
    }
}
