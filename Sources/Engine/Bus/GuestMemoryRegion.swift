/// A guest-physical range backed by host memory (RAM or a ROM), as a hypervisor maps it.
public struct GuestMemoryRegion: Equatable, @unchecked Sendable {
    public var guestPhysical: UInt64
    public var size: UInt64
    /// Host address of `guestPhysical`; the range is contiguous in host memory.
    public var host: UnsafeMutableRawPointer
    /// Reads come from host memory, writes are not backed (ROM, write-protected shadow RAM):
    /// KVM maps such a range as a read-only slot, and a guest write exits as MMIO.
    public var readOnly: Bool

    public init(guestPhysical: UInt64, size: UInt64, host: UnsafeMutableRawPointer, readOnly: Bool) {
        self.guestPhysical = guestPhysical
        self.size = size
        self.host = host
        self.readOnly = readOnly
    }
}

/// Told the complete list of host-backed regions when added and, after guest memory's mapping
/// changed (PAM, the VGA window, BAR moves), at `MemoryMap.publishRegionChanges`. A listener
/// that maps them elsewhere (KVM memory slots) publishes with the vCPUs out of the guest:
/// deleting and re-adding a slot is not atomic.
public protocol MemoryRegionListener: AnyObject {
    func memoryRegionsChanged(_ regions: [GuestMemoryRegion])
}
