/// A type-0 PCI configuration header with a per-byte write mask, so BAR sizing (write
/// all-ones, read back the size mask) and read-only IDs fall out of the mask.
public struct PCIConfigSpace {
    public private(set) var bytes = [UInt8](repeating: 0, count: 256)
    private var writable = [UInt8](repeating: 0, count: 256)

    /// QEMU's subsystem IDs; SeaBIOS prints "Running on QEMU (i440fx)" for 1AF4:1100.
    public static let qemuSubsystem: (vendor: UInt16, device: UInt16) = (0x1AF4, 0x1100)

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
        writable[0x05] = 0x01 // SERR
        writable[0x0C] = 0xFF // cache line size
        writable[0x0D] = 0xFF // latency timer
        writable[0x3C] = 0xFF // interrupt line
    }

    public var command: UInt16 { u16(0x04) }
    public var ioEnabled: Bool { command & 1 != 0 }
    public var memoryEnabled: Bool { command & 2 != 0 }
    public var busMasterEnabled: Bool { command & 4 != 0 }

    public func read(_ offset: Int, width: Int) -> UInt32 {
        var value: UInt32 = 0
        for i in 0..<width where offset + i < 256 { value |= UInt32(bytes[offset + i]) << UInt32(8 * i) }
        return value
    }

    /// Applies a guest write through the mask; returns nothing so devices react afterwards.
    public mutating func write(_ offset: Int, width: Int, value: UInt32) {
        for i in 0..<width where offset + i < 256 {
            let mask = writable[offset + i]
            let byte = UInt8(truncatingIfNeeded: value >> UInt32(8 * i))
            bytes[offset + i] = (bytes[offset + i] & ~mask) | (byte & mask)
        }
    }

    /// Declares BAR `index` (0-5) of `size` bytes (a power of two). I/O BARs read back bit 0 set.
    public mutating func defineBAR(_ index: Int, size: UInt32, io: Bool, prefetchable: Bool = false) {
        let offset = 0x10 + 4 * index
        let flags: UInt32 = io ? 0x1 : (prefetchable ? 0x8 : 0x0)
        set32(offset, flags)
        setMask32(offset, ~(size - 1) & (io ? 0xFFFF_FFFC : 0xFFFF_FFF0))
    }

    /// Declares the expansion ROM BAR (0x30) of `size` bytes; bit 0 is the decode enable.
    public mutating func defineROM(size: UInt32) {
        setMask32(0x30, ~(size - 1) | 1)
    }

    /// Base address of BAR `index`, flag bits stripped.
    public func bar(_ index: Int) -> UInt32 {
        let raw = u32(0x10 + 4 * index)
        return raw & 1 != 0 ? raw & 0xFFFF_FFFC : raw & 0xFFFF_FFF0
    }

    /// Makes device-specific registers guest-writable.
    public mutating func makeWritable(_ range: Range<Int>, mask: UInt8 = 0xFF) {
        for i in range { writable[i] = mask }
    }

    public func u8(_ offset: Int) -> UInt8 { bytes[offset] }
    public func u16(_ offset: Int) -> UInt16 { UInt16(read(offset, width: 2)) }
    public func u32(_ offset: Int) -> UInt32 { read(offset, width: 4) }
    public mutating func set8(_ offset: Int, _ value: UInt8) { bytes[offset] = value }
    public mutating func set16(_ offset: Int, _ value: UInt16) {
        bytes[offset] = UInt8(value & 0xFF)
        bytes[offset + 1] = UInt8(value >> 8)
    }
    public mutating func set32(_ offset: Int, _ value: UInt32) {
        for i in 0..<4 { bytes[offset + i] = UInt8(truncatingIfNeeded: value >> UInt32(8 * i)) }
    }
    private mutating func setMask32(_ offset: Int, _ mask: UInt32) {
        for i in 0..<4 { writable[offset + i] = UInt8(truncatingIfNeeded: mask >> UInt32(8 * i)) }
    }
}
