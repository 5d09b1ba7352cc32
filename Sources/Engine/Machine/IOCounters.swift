import Synchronization

/// Bytes a machine's disks and network card moved for the guest, since power-on. Device models
/// (any controller, any backend) add to them on whichever thread completes the transfer; the VM's
/// stats turn them into rates. Relaxed atomics: figures for people, not synchronisation.
public final class IOCounters: Sendable {
    private let diskRead = Atomic<UInt64>(0)
    private let diskWritten = Atomic<UInt64>(0)
    private let networkReceived = Atomic<UInt64>(0)
    private let networkSent = Atomic<UInt64>(0)

    public init() {}

    public func addDiskRead(_ bytes: Int) { diskRead.add(UInt64(bytes), ordering: .relaxed) }
    public func addDiskWritten(_ bytes: Int) { diskWritten.add(UInt64(bytes), ordering: .relaxed) }
    /// Frames the guest received (host to guest).
    public func addNetworkReceived(_ bytes: Int) { networkReceived.add(UInt64(bytes), ordering: .relaxed) }
    /// Frames the guest sent (guest to host).
    public func addNetworkSent(_ bytes: Int) { networkSent.add(UInt64(bytes), ordering: .relaxed) }

    public struct Totals: Equatable, Sendable {
        public var diskRead: UInt64 = 0
        public var diskWritten: UInt64 = 0
        public var networkReceived: UInt64 = 0
        public var networkSent: UInt64 = 0
        public init() {}
    }

    public var totals: Totals {
        var t = Totals()
        t.diskRead = diskRead.load(ordering: .relaxed)
        t.diskWritten = diskWritten.load(ordering: .relaxed)
        t.networkReceived = networkReceived.load(ordering: .relaxed)
        t.networkSent = networkSent.load(ordering: .relaxed)
        return t
    }
}
