/// A message-signalled interrupt: a DWORD write of `data` to `address` (0xFEExxxxx for a
/// local APIC), as a device's MSI or MSI-X capability composes it.
public struct MSIMessage: Equatable, Sendable {
    public let address: UInt64
    public let data: UInt32

    public init(address: UInt64, data: UInt32) {
        self.address = address
        self.data = data
    }
}
