/// Where PCI devices' MSI messages go: Emulate's APIC bus (APICBus), which hands them to the
/// local APICs. A machine without one (KVM until its backend takes MSIs) has PCIBus count the
/// messages it drops.
public protocol MSISink: AnyObject {
    func deliverMSI(_ message: MSIMessage)
}
