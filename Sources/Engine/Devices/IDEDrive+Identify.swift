/// Helpers shared by the IDENTIFY (PACKET) DEVICE replies of ATA and ATAPI drives.
extension IDEDrive {
    /// ATA strings: space-padded, two characters per word, first character in the high byte.
    static func putString(_ w: inout [UInt16], _ start: Int, _ length: Int, _ text: String) {
        let chars = paddedASCII(text, length)
        for i in 0..<(length / 2) { w[start + i] = UInt16(chars[2 * i]) << 8 | UInt16(chars[2 * i + 1]) }
    }

    /// `text` cut or space-padded to `length` bytes (ATA and SCSI INQUIRY strings).
    static func paddedASCII(_ text: String, _ length: Int) -> [UInt8] {
        let chars = Array(text.utf8.prefix(length))
        return chars + [UInt8](repeating: 0x20, count: length - chars.count)
    }

    /// The 256 IDENTIFY words as the little-endian bytes the data port delivers.
    static func identifyBytes(_ w: [UInt16]) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: 2 * w.count)
        for i in w.indices { bytes[2 * i] = UInt8(w[i] & 0xFF); bytes[2 * i + 1] = UInt8(w[i] >> 8) }
        return bytes
    }
}
