/// An MSI capability (ID 0x05): enable, multiple-message enable, a 32- or 64-bit address, a
/// 16-bit data word whose low bits carry the vector, and optionally per-vector mask and
/// pending bits. Made by `PCIConfigSpace.addMSI`; the device calls `notify(vector:)`.
public final class PCIMSI: PCICapabilityState {
    public static let id: UInt8 = 0x05
    /// Unowned: the config space owns this capability.
    private unowned let config: PCIConfigSpace
    public let offset: Int
    public let vectors: Int
    private let is64Bit: Bool
    private let perVectorMask: Bool
    let range: Range<Int>

    init(config: PCIConfigSpace, vectors: Int, is64Bit: Bool, perVectorMask: Bool) {
        precondition((1...32).contains(vectors) && vectors.nonzeroBitCount == 1, "MSI vectors: 1, 2, 4, ... 32")
        self.config = config
        self.vectors = vectors
        self.is64Bit = is64Bit
        self.perVectorMask = perVectorMask
        let control = UInt16(vectors.trailingZeroBitCount << 1) | (is64Bit ? 0x80 : 0) | (perVectorMask ? 0x100 : 0)
        // After the 16-bit control: address (+ upper address), data (+ 2 reserved), mask, pending.
        var body: [UInt8] = [UInt8(control & 0xFF), UInt8(control >> 8)]
        var mask: [UInt8] = [0x71, 0x00] // enable, multiple message enable
        body += [0, 0, 0, 0]; mask += [0xFC, 0xFF, 0xFF, 0xFF]
        if is64Bit { body += [0, 0, 0, 0]; mask += [0xFF, 0xFF, 0xFF, 0xFF] }
        body += [0, 0]; mask += [0xFF, 0xFF]
        if perVectorMask {
            let vectorBits = UInt32(truncatingIfNeeded: (UInt64(1) << UInt64(vectors)) - 1)
            body += [0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
            mask += [0, 0] + (0..<4).map { UInt8(truncatingIfNeeded: vectorBits >> UInt32(8 * $0)) } + [0, 0, 0, 0]
        }
        offset = config.addCapability(id: PCIMSI.id, body: body, writableMask: mask)
        range = offset..<(offset + 2 + body.count)
    }

    private var control: UInt16 { config.u16(offset + 2) }
    public var enabled: Bool { control & 1 != 0 }
    /// Vectors the guest allocated (multiple message enable), at most those offered.
    public var allocated: Int { min(vectors, 1 << Int((control >> 4) & 7)) }
    private var dataOffset: Int { offset + (is64Bit ? 0x0C : 0x08) }
    private var maskOffset: Int { offset + (is64Bit ? 0x10 : 0x0C) }

    public var maskBits: UInt32 { perVectorMask ? config.u32(maskOffset) : 0 }
    public var pendingBits: UInt32 { perVectorMask ? config.u32(maskOffset + 4) : 0 }

    /// The message for `vector` as programmed now.
    public func message(vector: Int) -> MSIMessage {
        let high = is64Bit ? UInt64(config.u32(offset + 8)) << 32 : 0
        let data = UInt32(config.u16(dataOffset)) & ~UInt32(allocated - 1) | UInt32(vector)
        return MSIMessage(address: high | UInt64(config.u32(offset + 4)), data: data)
    }

    /// The device signals `vector`: sent if enabled and allocated, held pending while masked.
    public func notify(vector: Int = 0) {
        guard enabled, vector < allocated else { return }
        let bit = UInt32(1) << UInt32(vector)
        if maskBits & bit != 0 {
            config.set32(maskOffset + 4, pendingBits | bit)
            return
        }
        config.send(message(vector: vector))
    }

    /// Unmasking a pending vector sends it.
    func configWritten() {
        guard enabled, perVectorMask else { return }
        let ready = pendingBits & ~maskBits
        guard ready != 0 else { return }
        config.set32(maskOffset + 4, pendingBits & ~ready)
        for vector in 0..<vectors where ready & (1 << UInt32(vector)) != 0 {
            config.send(message(vector: vector))
        }
    }

    func reset() {
        for i in (offset + 4)..<range.upperBound { config.set8(i, 0) }
        config.set16(offset + 2, control & ~0x71)
    }
}
