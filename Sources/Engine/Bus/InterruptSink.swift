/// Where the combined level of a global system interrupt goes: the PIIX3 (PIC side) today,
/// an IOAPIC later (its 24 pins are the GSIs), a recorder in tests.
public protocol InterruptSink: AnyObject {
    func setGSI(_ gsi: Int, level: Bool)
}
