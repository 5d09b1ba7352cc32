/// Conversions between machine nanoseconds and device clock ticks, exact for any uptime
/// (128-bit intermediate: ns * Hz overflows 64 bits after a few hours).
public enum Timebase {
    public static func ticks(_ nanoseconds: UInt64, hz: UInt64) -> UInt64 {
        let product = nanoseconds.multipliedFullWidth(by: hz)
        return UInt64(1_000_000_000).dividingFullWidth(product).quotient
    }

    /// The first nanosecond at which `ticks` ticks have elapsed.
    public static func nanoseconds(ticks: UInt64, hz: UInt64) -> UInt64 {
        let product = ticks.multipliedFullWidth(by: 1_000_000_000)
        let (q, r) = hz.dividingFullWidth(product)
        return r == 0 ? q : q + 1
    }
}
