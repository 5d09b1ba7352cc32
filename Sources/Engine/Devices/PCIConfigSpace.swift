/// A type-0 PCI configuration header with a per-byte write mask (BAR sizing and read-only IDs
/// fall out of the mask), the BARs a device declares with their handlers, a capability list,
/// and the function's INTx pin. The PCIBus it is attached to maps the BARs whenever the guest
/// changes the command register or a BAR, and delivers MSI messages.
///
/// A device declares everything in its init:
///
///     config.defineMemoryBAR(0, size: 0x20000, handler: registers)      // MMIODevice
///     config.defineIOBAR(1, size: 0x40, handler: ioWindow)               // PortDevice
///     let msi = config.addMSI(vectors: 1, is64Bit: true)                // or:
///     let msix = config.addMSIX(vectors: 3, bar: 2)                      // table + PBA in BAR2
///
/// then calls `config.setINTx(true/false)`, `msi.notify()` or `msix.notify(vector:)` to interrupt.
/// BAR handlers are handed the offset into the BAR (the `address`/`port` argument), never the
/// absolute address; they are held weakly, so the device must own them (usually it is one).
public final class PCIConfigSpace {
    public private(set) var bytes = [UInt8](repeating: 0, count: 256)
    private var writable = [UInt8](repeating: 0, count: 256)

    /// QEMU's subsystem IDs; SeaBIOS prints "Running on QEMU (i440fx)" for 1AF4:1100.
    public static let qemuSubsystem: (vendor: UInt16, device: UInt16) = (0x1AF4, 0x1100)
    /// Command register bit 10: the device's INTx output is masked.
    static let interruptDisable: UInt16 = 0x0400
    /// Status register bit 3: the device is asserting INTx; bit 4: a capability list exists.
    static let interruptStatus: UInt16 = 0x0008, capabilityList: UInt16 = 0x0010

    /// BAR slots 0-5 (the upper half of a 64-bit BAR holds nothing) and the expansion ROM.
    public private(set) var bars = [PCIBAR?](repeating: nil, count: 6)
    public private(set) var rom: PCIBAR?
    /// Where each BAR is decoded now, kept by the bus (index 6 is the ROM).
    var decoded = [PCIBARWindow?](repeating: nil, count: 7)

    /// Set by PCIBus.attach: the bus that maps the BARs and takes MSIs, and the PIRQ line
    /// the interrupt pin reaches.
    weak var bus: PCIBus?
    var intx: IRQLine?
    private var intxAsserted = false

    private var nextCapability = 0x40
    private var lastCapability: Int?
    /// Capability state that must see guest writes to its registers (MSI, MSI-X).
    private var capabilities: [PCICapabilityState] = []

    public init(vendor: UInt16, device: UInt16, revision: UInt8, classCode: UInt32,
                headerType: UInt8 = 0, interruptPin: UInt8 = 0) {
        set16(0x00, vendor)
        set16(0x02, device)
        bytes[0x08] = revision
        bytes[0x09] = UInt8(classCode & 0xFF)
        bytes[0x0A] = UInt8((classCode >> 8) & 0xFF)
        bytes[0x0B] = UInt8(classCode >> 16)
        bytes[0x0E] = headerType
        set16(0x2C, PCIConfigSpace.qemuSubsystem.vendor)
        set16(0x2E, PCIConfigSpace.qemuSubsystem.device)
        bytes[0x3D] = interruptPin
        set16(0x06, 0x0280) // status: fast back-to-back, medium DEVSEL timing
        writable[0x04] = 0x07 // I/O, memory, bus master
        writable[0x05] = 0x05 // SERR, interrupt disable
        writable[0x0C] = 0xFF // cache line size
        writable[0x0D] = 0xFF // latency timer
        writable[0x3C] = 0xFF // interrupt line
    }

    public var command: UInt16 { u16(0x04) }
    public var ioEnabled: Bool { command & 1 != 0 }
    public var memoryEnabled: Bool { command & 2 != 0 }
    public var busMasterEnabled: Bool { command & 4 != 0 }
    /// The interrupt pin (0x3D): 0 none, 1-4 INTA-INTD.
    public var interruptPin: Int { Int(bytes[0x3D]) }

    public func read(_ offset: Int, width: Int) -> UInt32 {
        var value: UInt32 = 0
        for i in 0..<width where offset + i < 256 { value |= UInt32(bytes[offset + i]) << UInt32(8 * i) }
        return value
    }

    /// Applies a guest write through the mask, then lets the bus re-decode the BARs and the
    /// capabilities react; the device reacts afterwards.
    public func write(_ offset: Int, width: Int, value: UInt32) {
        for i in 0..<width where offset + i < 256 {
            let mask = writable[offset + i]
            let byte = UInt8(truncatingIfNeeded: value >> UInt32(8 * i))
            bytes[offset + i] = (bytes[offset + i] & ~mask) | (byte & mask)
        }
        let written = offset..<(offset + width)
        if written.overlaps(0x04..<0x06) { driveINTx() }
        if written.overlaps(0x04..<0x06) || written.overlaps(0x10..<0x28) || written.overlaps(0x30..<0x34) {
            bus?.decode(self)
        }
        for capability in capabilities where written.overlaps(capability.range) { capability.configWritten() }
    }

    /// PCI reset (RST#): decoding and bus mastering off, BARs and the ROM BAR back to their
    /// type bits, interrupt line 0, INTx deasserted, MSI/MSI-X disabled and masked.
    public func resetHeader() {
        set16(0x04, 0)
        bytes[0x3C] = 0
        for index in 0..<6 {
            if let bar = bars[index] {
                set32(0x10 + 4 * index, bar.flags)
                if bar.is64Bit { set32(0x14 + 4 * index, 0) }
            }
        }
        if rom != nil { set32(0x30, 0) }
        intxAsserted = false
        driveINTx()
        for capability in capabilities { capability.reset() }
        bus?.decode(self)
    }

    // MARK: BARs

    /// Declares I/O BAR `index` (0-5) of `size` bytes (a power of two, at least 4).
    public func defineIOBAR(_ index: Int, size: UInt32, handler: PortDevice) {
        bars[index] = PCIBAR(size: UInt64(size), kind: .io, port: handler)
        set32(0x10 + 4 * index, 0x1)
        setMask32(0x10 + 4 * index, ~(size - 1) & 0xFFFF_FFFC)
    }

    /// Declares memory BAR `index` of `size` bytes (a power of two, at least 16; 4 KiB or more
    /// keeps it on its own pages). A 64-bit BAR also takes slot index+1 for the upper half.
    /// `handler` nil: sized and assigned, but nothing answers (an unbacked aperture).
    public func defineMemoryBAR(_ index: Int, size: UInt64, handler: MMIODevice?,
                                prefetchable: Bool = false, is64Bit: Bool = false) {
        let bar = PCIBAR(size: size, kind: .memory(prefetchable: prefetchable, is64Bit: is64Bit), mmio: handler)
        bars[index] = bar
        let mask = ~(size - 1)
        set32(0x10 + 4 * index, bar.flags)
        setMask32(0x10 + 4 * index, UInt32(truncatingIfNeeded: mask) & 0xFFFF_FFF0)
        if is64Bit {
            set32(0x14 + 4 * index, 0)
            setMask32(0x14 + 4 * index, UInt32(truncatingIfNeeded: mask >> 32))
        }
    }

    /// Declares the expansion ROM BAR (0x30) serving `image` read-only; bit 0 is the decode enable.
    public func defineROM(_ image: HostBuffer) {
        var size: UInt32 = 0x800
        while Int(size) < image.count { size <<= 1 }
        rom = PCIBAR(size: UInt64(size), kind: .rom, image: image)
        setMask32(0x30, ~(size - 1) | 1)
    }

    /// Base address of BAR `index`, flag bits stripped, both halves of a 64-bit BAR combined.
    public func barAddress(_ index: Int) -> UInt64 {
        let raw = u32(0x10 + 4 * index)
        if raw & 1 != 0 { return UInt64(raw & 0xFFFF_FFFC) }
        let high = raw & 0x6 == 0x4 && index < 5 ? UInt64(u32(0x14 + 4 * index)) << 32 : 0
        return high | UInt64(raw & 0xFFFF_FFF0)
    }

    // MARK: Capabilities

    /// Appends a capability: `id`, then `body` (the bytes after the ID and next pointer) with
    /// `writableMask` (same length; nil: read-only). Sets status bit 4 and links it from 0x34
    /// or the previous capability. Placed dword-aligned after the previous one, from 0x40, or
    /// at `offset` (clear of any device-specific registers). Returns the capability's offset.
    @discardableResult
    public func addCapability(id: UInt8, body: [UInt8], writableMask: [UInt8]? = nil, at offset: Int? = nil) -> Int {
        let start = offset ?? nextCapability
        precondition(start >= 0x40 && start & 3 == 0 && start + 2 + body.count <= 256, "capability does not fit")
        bytes[start] = id
        bytes[start + 1] = 0
        for (i, byte) in body.enumerated() {
            bytes[start + 2 + i] = byte
            writable[start + 2 + i] = writableMask?[i] ?? 0
        }
        if let last = lastCapability { bytes[last + 1] = UInt8(start) } else { bytes[0x34] = UInt8(start) }
        lastCapability = start
        nextCapability = (start + 2 + body.count + 3) & ~3
        set16(0x06, u16(0x06) | PCIConfigSpace.capabilityList)
        return start
    }

    /// Offsets of the capability list in order, as a guest walks it from 0x34.
    public func capabilityOffsets() -> [Int] {
        guard u16(0x06) & PCIConfigSpace.capabilityList != 0 else { return [] }
        var list: [Int] = []
        var next = Int(bytes[0x34] & 0xFC)
        while next != 0 && list.count < 48 {
            list.append(next)
            next = Int(bytes[next + 1] & 0xFC)
        }
        return list
    }

    /// Adds an MSI capability with `vectors` (1, 2, 4, ... 32) messages.
    public func addMSI(vectors: Int = 1, is64Bit: Bool = true, perVectorMask: Bool = false) -> PCIMSI {
        let msi = PCIMSI(config: self, vectors: vectors, is64Bit: is64Bit, perVectorMask: perVectorMask)
        capabilities.append(msi)
        return msi
    }

    /// Adds an MSI-X capability with `vectors` table entries; the table (at 0) and the pending
    /// bit array (after it) fill memory BAR `bar`, which this declares.
    public func addMSIX(vectors: Int, bar: Int) -> PCIMSIX {
        let msix = PCIMSIX(config: self, vectors: vectors, bar: bar)
        capabilities.append(msix)
        return msix
    }

    // MARK: Interrupts

    /// The device asserts (true) or deasserts its INTx pin. Status bit 3 follows; the line
    /// reaches the PIRQ only while command bit 10 (interrupt disable) is clear.
    public func setINTx(_ asserted: Bool) {
        intxAsserted = asserted
        driveINTx()
    }

    private func driveINTx() {
        let status = u16(0x06) & ~PCIConfigSpace.interruptStatus
        set16(0x06, status | (intxAsserted ? PCIConfigSpace.interruptStatus : 0))
        intx?.set(intxAsserted && command & PCIConfigSpace.interruptDisable == 0)
    }

    /// Hands `message` to the bus's MSI sink (dropped when not attached).
    func send(_ message: MSIMessage) {
        bus?.deliver(message)
    }

    // MARK: Raw access for the device

    /// Makes device-specific registers guest-writable.
    public func makeWritable(_ range: Range<Int>, mask: UInt8 = 0xFF) {
        for i in range { writable[i] = mask }
    }

    public func u8(_ offset: Int) -> UInt8 { bytes[offset] }
    public func u16(_ offset: Int) -> UInt16 { UInt16(read(offset, width: 2)) }
    public func u32(_ offset: Int) -> UInt32 { read(offset, width: 4) }
    public func set8(_ offset: Int, _ value: UInt8) { bytes[offset] = value }
    public func set16(_ offset: Int, _ value: UInt16) {
        bytes[offset] = UInt8(value & 0xFF)
        bytes[offset + 1] = UInt8(value >> 8)
    }
    public func set32(_ offset: Int, _ value: UInt32) {
        for i in 0..<4 { bytes[offset + i] = UInt8(truncatingIfNeeded: value >> UInt32(8 * i)) }
    }
    private func setMask32(_ offset: Int, _ mask: UInt32) {
        for i in 0..<4 { writable[offset + i] = UInt8(truncatingIfNeeded: mask >> UInt32(8 * i)) }
    }
}
