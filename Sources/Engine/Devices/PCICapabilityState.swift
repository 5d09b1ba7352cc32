/// A capability with behaviour behind its registers (MSI, MSI-X): told after every guest write
/// that touches it, and at PCI reset.
protocol PCICapabilityState: AnyObject {
    var range: Range<Int> { get }
    func configWritten()
    func reset()
}
