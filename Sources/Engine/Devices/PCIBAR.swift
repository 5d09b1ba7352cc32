/// One base address register a device declared: its size, kind and the handler that answers
/// it (held weakly: the device owns it, and is often it; `unowned` optional existentials here
/// were over-released by Swift 6.3.1 and crashed the MSI-X test).
public struct PCIBAR {
    public enum Kind: Equatable {
        case io
        case memory(prefetchable: Bool, is64Bit: Bool)
        /// The expansion ROM (0x30): host memory mapped read-only.
        case rom
    }

    public let size: UInt64
    public let kind: Kind
    private(set) weak var port: PortDevice?
    private(set) weak var mmio: MMIODevice?
    let image: HostBuffer?

    init(size: UInt64, kind: Kind, port: PortDevice? = nil, mmio: MMIODevice? = nil, image: HostBuffer? = nil) {
        precondition(size.nonzeroBitCount == 1, "a BAR's size is a power of two")
        self.size = size
        self.kind = kind
        self.port = port
        self.mmio = mmio
        self.image = image
    }

    /// The read-only low bits of the BAR register: I/O space, or memory type and prefetchable.
    var flags: UInt32 {
        switch kind {
        case .io: return 0x1
        case let .memory(prefetchable, is64Bit): return (is64Bit ? 0x4 : 0) | (prefetchable ? 0x8 : 0)
        case .rom: return 0
        }
    }

    var is64Bit: Bool {
        if case .memory(_, true) = kind { return true }
        return false
    }
}
