/// Where interrupt request lines end: the PIC pair today, an IOAPIC later.
public protocol InterruptController: AnyObject {
    /// Sets the level of ISA IRQ `irq` (0-15). Edge-triggered inputs latch on a rising edge.
    func setIRQ(_ irq: Int, level: Bool)
}

/// A handle a device holds for its interrupt line, so it never needs to know who listens.
public struct IRQLine {
    public let irq: Int
    private unowned let controller: InterruptController

    public init(irq: Int, controller: InterruptController) {
        self.irq = irq
        self.controller = controller
    }

    public func raise() { controller.setIRQ(irq, level: true) }
    public func lower() { controller.setIRQ(irq, level: false) }
    public func set(_ level: Bool) { controller.setIRQ(irq, level: level) }
    /// Raise then lower: one edge for edge-triggered devices (PIT, RTC, FDC).
    public func pulse() { raise(); lower() }
}
