/// The machine's interrupt fabric: every IRQLine drives one source on a GSI, the router
/// wire-ORs the sources of each GSI and tells its sinks when the combined level changes.
/// GSIs 0-15 are the ISA IRQs, 16-19 the PCI interrupt lines PIRQA-D, 20-23 unused. The PIIX3
/// is the sink: it steers the PIRQs onto ISA IRQs and drives the PIC and the IOAPIC with the
/// result, as QEMU's i440FX does (its IOAPIC pins 16-23 are unconnected).
public final class InterruptRouter {
    public static let gsiCount = 24
    /// The first of the four PIRQ GSIs.
    public static let pirqBase = 16

    /// Sources holding each GSI high.
    private var asserted = [Set<Int>](repeating: [], count: InterruptRouter.gsiCount)
    private var sources = 0
    /// Unowned: sinks are owned by the machine (or the test), which owns this router too.
    private var sinks: [UnownedSink] = []

    private struct UnownedSink {
        unowned let sink: InterruptSink
    }

    public init() {}

    /// Adds a sink; it is told about every later change of a GSI's combined level.
    public func addSink(_ sink: InterruptSink) {
        sinks.append(UnownedSink(sink: sink))
    }

    /// A new source on `gsi`.
    public func line(_ gsi: Int) -> IRQLine { IRQLine(gsi: gsi, router: self) }

    /// The combined (wired-OR) level of `gsi`.
    public func level(_ gsi: Int) -> Bool { !asserted[gsi].isEmpty }

    func newSource() -> Int {
        sources += 1
        return sources
    }

    func set(_ gsi: Int, source: Int, level: Bool) {
        guard asserted.indices.contains(gsi) else { return }
        let was = !asserted[gsi].isEmpty
        if level { asserted[gsi].insert(source) } else { asserted[gsi].remove(source) }
        let now = !asserted[gsi].isEmpty
        guard now != was else { return }
        for entry in sinks { entry.sink.setGSI(gsi, level: now) }
    }
}
