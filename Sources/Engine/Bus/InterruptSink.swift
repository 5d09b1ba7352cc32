/// Where the combined level of a global system interrupt goes: the PIIX3 (which feeds the PIC
/// and the IOAPIC), a recorder in tests.
public protocol InterruptSink: AnyObject {
    func setGSI(_ gsi: Int, level: Bool)
}
