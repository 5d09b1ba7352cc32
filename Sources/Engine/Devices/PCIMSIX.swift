/// An MSI-X capability (ID 0x11) with its table (16 bytes per vector: address, upper address,
/// data, vector control) at offset 0 of its own memory BAR and the pending bit array right
/// after it. Enable and function mask are in the capability's control word. Made by
/// `PCIConfigSpace.addMSIX`; the device calls `notify(vector:)`. As the BAR's handler it gets
/// offsets into the BAR.
public final class PCIMSIX: PCICapabilityState, MMIODevice {
    public static let id: UInt8 = 0x11
    /// Unowned: the config space owns this capability.
    private unowned let config: PCIConfigSpace
    public let offset: Int
    public let vectors: Int
    public let bar: Int
    let range: Range<Int>
    private var table: [UInt8]
    private var pending: [Bool]
    /// Offset of the pending bit array in the BAR.
    public let pbaOffset: Int

    init(config: PCIConfigSpace, vectors: Int, bar: Int) {
        precondition((1...2048).contains(vectors), "MSI-X vectors: 1-2048")
        self.config = config
        self.vectors = vectors
        self.bar = bar
        table = [UInt8](repeating: 0, count: 16 * vectors)
        pending = [Bool](repeating: false, count: vectors)
        pbaOffset = 16 * vectors
        let control = UInt16(vectors - 1)
        let body: [UInt8] = [UInt8(control & 0xFF), UInt8(control >> 8)]
            + PCIMSIX.le32(UInt32(bar)) + PCIMSIX.le32(UInt32(pbaOffset) | UInt32(bar))
        offset = config.addCapability(id: PCIMSIX.id, body: body, writableMask: [0, 0xC0] + [UInt8](repeating: 0, count: 8))
        range = offset..<(offset + 2 + body.count)
        var size: UInt64 = 0x1000
        while size < UInt64(pbaOffset + (vectors + 63) / 64 * 8) { size <<= 1 }
        config.defineMemoryBAR(bar, size: size, handler: self)
        reset()
    }

    private static func le32(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> UInt32(8 * $0)) } }

    private var control: UInt16 { config.u16(offset + 2) }
    public var enabled: Bool { control & 0x8000 != 0 }
    public var functionMasked: Bool { control & 0x4000 != 0 }

    public func isMasked(vector: Int) -> Bool { table[16 * vector + 12] & 1 != 0 }
    public func isPending(vector: Int) -> Bool { pending[vector] }

    /// The message in table entry `vector`.
    public func message(vector: Int) -> MSIMessage {
        func dword(_ at: Int) -> UInt32 { (0..<4).reduce(0) { $0 | UInt32(table[at + $1]) << UInt32(8 * $1) } }
        let entry = 16 * vector
        return MSIMessage(address: UInt64(dword(entry + 4)) << 32 | UInt64(dword(entry)), data: dword(entry + 8))
    }

    /// The device signals `vector`: sent if MSI-X is enabled and neither the function nor the
    /// vector is masked; held in the pending bit array while masked.
    public func notify(vector: Int) {
        guard enabled, vector < vectors else { return }
        if functionMasked || isMasked(vector: vector) {
            pending[vector] = true
            return
        }
        config.send(message(vector: vector))
    }

    /// Sends every pending vector that is no longer masked.
    private func flush() {
        guard enabled, !functionMasked else { return }
        for vector in 0..<vectors where pending[vector] && !isMasked(vector: vector) {
            pending[vector] = false
            config.send(message(vector: vector))
        }
    }

    func configWritten() { flush() }

    /// Entries masked, addresses and data zero, nothing pending (PCI spec reset values).
    func reset() {
        config.set16(offset + 2, UInt16(vectors - 1))
        for i in table.indices { table[i] = i % 16 == 12 ? 1 : 0 }
        for i in pending.indices { pending[i] = false }
    }

    // MARK: The BAR: table, then pending bits

    public func mmioRead(_ address: UInt32, width: Int) -> UInt32 {
        var value: UInt32 = 0
        for i in 0..<width { value |= UInt32(byte(Int(address) + i)) << UInt32(8 * i) }
        return value
    }

    private func byte(_ at: Int) -> UInt8 {
        if at < table.count { return table[at] }
        let bit = (at - pbaOffset) * 8
        guard bit >= 0 else { return 0 }
        return (0..<8).reduce(UInt8(0)) { bit + $1 < vectors && pending[bit + $1] ? $0 | UInt8(1 << $1) : $0 }
    }

    /// Table writes only: address bits 1-0 and vector control bits 31-1 are read-only; the
    /// pending bits are read-only.
    public func mmioWrite(_ address: UInt32, width: Int, value: UInt32) {
        for i in 0..<width {
            let at = Int(address) + i
            guard at < table.count else { continue }
            let mask: UInt8 = switch at % 16 {
            case 0: 0xFC
            case 12: 0x01
            case 13...15: 0x00
            default: 0xFF
            }
            table[at] = (table[at] & ~mask) | (UInt8(truncatingIfNeeded: value >> UInt32(8 * i)) & mask)
        }
        flush()
    }
}
