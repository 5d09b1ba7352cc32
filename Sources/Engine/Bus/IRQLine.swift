/// An input numbered by ISA IRQ (0-15): the 8259 pair, which the PIIX3 drives with the ISA
/// lines and the PCI PIRQs steered onto them.
public protocol InterruptController: AnyObject {
    /// Sets the level of ISA IRQ `irq` (0-15). Edge-triggered inputs latch on a rising edge.
    func setIRQ(_ irq: Int, level: Bool)
}

/// A handle a device holds for one interrupt source, so it never needs to know who listens.
/// It names a global system interrupt (GSI 0-15: the ISA IRQs; 16-19: PCI PIRQA-D); the
/// router wire-ORs every source on a GSI, so a level-triggered line shared by two devices stays
/// high while either holds it. Copies of a line are the same source.
public struct IRQLine {
    public let gsi: Int
    private let source: Int
    private unowned let router: InterruptRouter

    /// A new source on `gsi`; most code gets lines from `InterruptRouter.line(_:)`.
    public init(gsi: Int, router: InterruptRouter) {
        self.gsi = gsi
        self.router = router
        source = router.newSource()
    }

    public func raise() { router.set(gsi, source: source, level: true) }
    public func lower() { router.set(gsi, source: source, level: false) }
    public func set(_ level: Bool) { router.set(gsi, source: source, level: level) }
    /// Raise then lower: one edge for edge-triggered devices (PIT, RTC, FDC).
    public func pulse() { raise(); lower() }
}
