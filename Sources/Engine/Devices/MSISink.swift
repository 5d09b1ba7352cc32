/// Where PCI devices' MSI messages go: the local APIC(s) once they exist. Until then the
/// machine has none and PCIBus counts the messages it drops; no guest enables MSI without an
/// APIC (CPUID reports none), so nothing is lost in practice.
public protocol MSISink: AnyObject {
    func deliverMSI(_ message: MSIMessage)
}
