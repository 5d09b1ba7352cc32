/// A header or table read from an image, with the fixed-width big-endian (qcow2) and
/// little-endian (VDI) field accessors the formats need. Out-of-range fields read as zero,
/// so a short header can never cause an out-of-bounds access.
struct StorageBytes {
    var bytes: [UInt8]

    init(_ bytes: [UInt8]) { self.bytes = bytes }
    init(count: Int) { bytes = [UInt8](repeating: 0, count: count) }

    var count: Int { bytes.count }

    private func field(_ offset: Int, _ width: Int, bigEndian: Bool) -> UInt64 {
        guard offset >= 0, offset + width <= bytes.count else { return 0 }
        var value: UInt64 = 0
        for i in 0..<width {
            let byte = UInt64(bytes[offset + (bigEndian ? i : width - 1 - i)])
            value = value << 8 | byte
        }
        return value
    }

    private mutating func setField(_ offset: Int, _ width: Int, _ value: UInt64, bigEndian: Bool) {
        for i in 0..<width {
            let shift = UInt64(8 * (bigEndian ? width - 1 - i : i))
            bytes[offset + i] = UInt8(truncatingIfNeeded: value >> shift)
        }
    }

    func be32(_ offset: Int) -> UInt32 { UInt32(field(offset, 4, bigEndian: true)) }
    func be64(_ offset: Int) -> UInt64 { field(offset, 8, bigEndian: true) }
    func le16(_ offset: Int) -> UInt16 { UInt16(field(offset, 2, bigEndian: false)) }
    func le32(_ offset: Int) -> UInt32 { UInt32(field(offset, 4, bigEndian: false)) }
    func le64(_ offset: Int) -> UInt64 { field(offset, 8, bigEndian: false) }
    mutating func setBE32(_ offset: Int, _ value: UInt32) { setField(offset, 4, UInt64(value), bigEndian: true) }
    mutating func setBE64(_ offset: Int, _ value: UInt64) { setField(offset, 8, value, bigEndian: true) }
    mutating func setLE16(_ offset: Int, _ value: UInt16) { setField(offset, 2, UInt64(value), bigEndian: false) }
    mutating func setLE32(_ offset: Int, _ value: UInt32) { setField(offset, 4, UInt64(value), bigEndian: false) }
    mutating func setLE64(_ offset: Int, _ value: UInt64) { setField(offset, 8, value, bigEndian: false) }

    /// Bytes `offset..<offset+count` (clamped to what exists).
    func slice(_ offset: Int, _ count: Int) -> [UInt8] {
        guard offset < bytes.count else { return [] }
        return Array(bytes[offset..<min(bytes.count, offset + count)])
    }
}
