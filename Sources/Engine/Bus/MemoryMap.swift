#if canImport(Glibc)
import Glibc
#endif

/// A device that answers physical memory accesses in an MMIO window. `width` is 1, 2 or 4.
/// `address` is the full physical address.
public protocol MMIODevice: AnyObject {
    func mmioRead(_ address: UInt32, width: Int) -> UInt32
    func mmioWrite(_ address: UInt32, width: Int, value: UInt32)
}

/// Told when something writes to a page that holds decoded guest code (self-modifying code,
/// DMA over code), so the CPU can drop its decode cache for that page.
public protocol CodeWriteObserver: AnyObject {
    func codePageWritten(_ page: UInt32)
}

/// Errors assembling guest memory.
public enum MemoryError: Error, CustomStringConvertible {
    case allocationFailed(bytes: Int)
    public var description: String {
        switch self {
        case .allocationFailed(let bytes):
            return "cannot allocate \(bytes / 1_048_576) MiB of guest RAM (mmap failed): lower the VM's memory setting"
        }
    }
}

/// The guest's 32-bit physical address space, in 4 KiB pages.
///
/// Every page has a host pointer for reads and one for writes. A non-nil pointer is the fast
/// path (RAM, or ROM for reads); nil sends the access to the page's MMIO device, or makes it
/// unassigned (reads all-ones, writes dropped). PAM shadowing and ROM write-protection are
/// just different pointers on the same page.
public final class MemoryMap {
    public static let pageShift: UInt32 = 12
    public static let pageSize = 4096
    public static let pageCount = 1 << 20

    /// Guest RAM: one page-aligned host allocation, the same block KVM would map.
    public let ram: UnsafeMutableRawPointer
    public let ramSize: Int

    /// Per page: where reads and writes go on the fast path (nil: slow path).
    public let readPages: UnsafeMutablePointer<UnsafeMutableRawPointer?>
    public let writePages: UnsafeMutablePointer<UnsafeMutableRawPointer?>
    /// Per page: index+1 into `mmioDevices`, 0 for none.
    private let mmioIndex: UnsafeMutablePointer<UInt16>
    private var mmioDevices: [MMIODevice] = []

    /// One bit per page: set while the CPU holds decoded code from that page.
    public let codePages: UnsafeMutablePointer<UInt64>
    public weak var codeWriteObserver: CodeWriteObserver?

    /// Applied by the CPU to every physical address: bit 20 cleared while the A20 gate is off.
    public var a20Mask: UInt32 = 0xFFFF_FFFF
    public var a20Enabled: Bool {
        get { a20Mask == 0xFFFF_FFFF }
        set { a20Mask = newValue ? 0xFFFF_FFFF : 0xFFEF_FFFF }
    }

    /// Allocates `ramSize` bytes (rounded up to a page) of zeroed RAM mapped from address 0.
    public init(ramSize requested: Int) throws {
        let size = (requested + MemoryMap.pageSize - 1) & ~(MemoryMap.pageSize - 1)
        guard let mapped = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0),
              mapped != MAP_FAILED else {
            throw MemoryError.allocationFailed(bytes: size)
        }
        ram = mapped
        ramSize = size
        readPages = .allocate(capacity: MemoryMap.pageCount)
        readPages.initialize(repeating: nil, count: MemoryMap.pageCount)
        writePages = .allocate(capacity: MemoryMap.pageCount)
        writePages.initialize(repeating: nil, count: MemoryMap.pageCount)
        mmioIndex = .allocate(capacity: MemoryMap.pageCount)
        mmioIndex.initialize(repeating: 0, count: MemoryMap.pageCount)
        codePages = .allocate(capacity: MemoryMap.pageCount / 64)
        codePages.initialize(repeating: 0, count: MemoryMap.pageCount / 64)
        mapRAM(from: 0, size: size)
    }

    deinit {
        munmap(ram, ramSize)
        readPages.deallocate()
        writePages.deallocate()
        mmioIndex.deallocate()
        codePages.deallocate()
    }

    // MARK: Mapping

    /// Maps guest RAM read/write at the same physical addresses (identity), e.g. after PAM
    /// switches a segment to RAM.
    public func mapRAM(from base: UInt32, size: Int) {
        forEachPage(base, size) { page in
            let offset = Int(page) << Int(MemoryMap.pageShift)
            guard offset < ramSize else { return }
            readPages[Int(page)] = ram + offset
            writePages[Int(page)] = ram + offset
        }
    }

    /// Sets the read and write targets of the pages in [base, base+size). `readFrom` and
    /// `writeTo` point at the host memory backing `base` (nil: slow path); the pointers
    /// advance page by page. A ROM is `readFrom: rom, writeTo: nil`.
    public func setPages(from base: UInt32, size: Int,
                         readFrom: UnsafeMutableRawPointer?, writeTo: UnsafeMutableRawPointer?) {
        forEachPage(base, size) { page in
            let delta = (Int(page) << Int(MemoryMap.pageShift)) - Int(base)
            readPages[Int(page)] = readFrom.map { $0 + delta }
            writePages[Int(page)] = writeTo.map { $0 + delta }
        }
    }

    /// Routes the pages in [base, base+size) to `device` (both reads and writes).
    public func mapMMIO(from base: UInt32, size: Int, device: MMIODevice) {
        let index: Int
        if let existing = mmioDevices.firstIndex(where: { $0 === device }) {
            index = existing
        } else {
            mmioDevices.append(device)
            index = mmioDevices.count - 1
        }
        forEachPage(base, size) { page in
            readPages[Int(page)] = nil
            writePages[Int(page)] = nil
            mmioIndex[Int(page)] = UInt16(index + 1)
        }
    }

    /// Makes the pages unassigned: reads all-ones, writes dropped.
    public func unmap(from base: UInt32, size: Int) {
        forEachPage(base, size) { page in
            readPages[Int(page)] = nil
            writePages[Int(page)] = nil
            mmioIndex[Int(page)] = 0
        }
    }

    private func forEachPage(_ base: UInt32, _ size: Int, _ body: (UInt32) -> Void) {
        guard size > 0 else { return }
        let first = UInt64(base) >> UInt64(MemoryMap.pageShift)
        let last = (UInt64(base) + UInt64(size) - 1) >> UInt64(MemoryMap.pageShift)
        for page in first...min(last, UInt64(MemoryMap.pageCount - 1)) { body(UInt32(page)) }
        noteMappingChanged()
    }

    /// Bumped whenever a mapping changes, so a CPU's TLB of host pointers can flush.
    public private(set) var mappingGeneration: UInt64 = 0
    private var regionListeners: [MemoryRegionListener] = []

    /// A mapping changed since the listeners were last told.
    private var regionsChanged = false

    private func noteMappingChanged() {
        mappingGeneration &+= 1
        regionsChanged = !regionListeners.isEmpty
    }

    /// Tells `listener` the host-backed regions now and, through `publishRegionChanges`, after
    /// mapping changes (KVM's memory slots follow them this way).
    public func addRegionListener(_ listener: MemoryRegionListener) {
        regionListeners.append(listener)
        listener.memoryRegionsChanged(hostRegions())
    }

    /// Tells the listeners the regions if a mapping changed since they were last told. Called
    /// by the listener's side (a KVM vCPU before entering the guest), so a burst of changes (a
    /// PAM write remaps 13 segments, a reset dozens) costs one scan of the page tables, not one each.
    public func publishRegionChanges() {
        guard regionsChanged else { return }
        regionsChanged = false
        let regions = hostRegions()
        for listener in regionListeners { listener.memoryRegionsChanged(regions) }
    }

    /// The guest-physical ranges backed by host memory, coalesced from the page tables: RAM
    /// (read/write), and read-only ranges (ROM, PAM-protected shadow RAM) where reads have a host
    /// pointer and writes do not. MMIO and unassigned pages are absent.
    public func hostRegions() -> [GuestMemoryRegion] {
        var regions: [GuestMemoryRegion] = []
        let size = UInt64(MemoryMap.pageSize)
        for page in 0..<MemoryMap.pageCount {
            guard let read = readPages[page] else { continue }
            let write = writePages[page]
            // A page whose writes go somewhere other than where reads come from (PAM write-only)
            // is presented as RAM that is read-write, as QEMU does for PAM mode 2.
            let readOnly = write == nil
            let guest = UInt64(page) * size
            if var last = regions.last, last.readOnly == readOnly,
               last.guestPhysical + last.size == guest, last.host + Int(last.size) == read {
                last.size += size
                regions[regions.count - 1] = last
            } else {
                regions.append(GuestMemoryRegion(guestPhysical: guest, size: size, host: read, readOnly: readOnly))
            }
        }
        return regions
    }

    // MARK: Access (the general path; a CPU keeps its own inline fast path over the page tables)

    @inline(__always) public func isCodePage(_ page: UInt32) -> Bool {
        codePages[Int(page >> 6)] & (1 << UInt64(page & 63)) != 0
    }

    public func read(_ address: UInt32, width: Int) -> UInt32 {
        let offset = Int(address & 0xFFF)
        if offset + width <= MemoryMap.pageSize {
            let page = Int(address >> MemoryMap.pageShift)
            if let host = readPages[page] {
                switch width {
                case 1: return UInt32(host.load(fromByteOffset: offset, as: UInt8.self))
                case 2: return UInt32(host.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
                default: return host.loadUnaligned(fromByteOffset: offset, as: UInt32.self)
                }
            }
            let index = Int(mmioIndex[page])
            if index != 0 { return mmioDevices[index - 1].mmioRead(address, width: width) }
            return PortMap.allOnes(width)
        }
        var value: UInt32 = 0
        for i in 0..<width {
            value |= read(address &+ UInt32(i), width: 1) << UInt32(8 * i)
        }
        return value
    }

    public func write(_ address: UInt32, width: Int, value: UInt32) {
        let offset = Int(address & 0xFFF)
        if offset + width <= MemoryMap.pageSize {
            let page = Int(address >> MemoryMap.pageShift)
            if let host = writePages[page] {
                switch width {
                case 1: host.storeBytes(of: UInt8(truncatingIfNeeded: value), toByteOffset: offset, as: UInt8.self)
                case 2: host.storeBytes(of: UInt16(truncatingIfNeeded: value), toByteOffset: offset, as: UInt16.self)
                default: host.storeBytes(of: value, toByteOffset: offset, as: UInt32.self)
                }
                if isCodePage(UInt32(page)) { codeWriteObserver?.codePageWritten(UInt32(page)) }
                return
            }
            let index = Int(mmioIndex[page])
            if index != 0 { mmioDevices[index - 1].mmioWrite(address, width: width, value: value) }
            return
        }
        for i in 0..<width {
            write(address &+ UInt32(i), width: 1, value: value >> UInt32(8 * i))
        }
    }

    /// Copies guest memory out (DMA from the guest's point of view: device reads RAM).
    public func readBytes(at address: UInt32, into buffer: UnsafeMutableRawBufferPointer) {
        for i in 0..<buffer.count {
            buffer[i] = UInt8(truncatingIfNeeded: read(address &+ UInt32(i), width: 1))
        }
    }

    /// Copies bytes into guest memory (device DMA into RAM); invalidates decoded code.
    public func writeBytes(at address: UInt32, from buffer: UnsafeRawBufferPointer) {
        for i in 0..<buffer.count {
            write(address &+ UInt32(i), width: 1, value: UInt32(buffer[i]))
        }
    }
}
