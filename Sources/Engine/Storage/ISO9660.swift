/// Sanity checks on a CD image before it goes into the CD-ROM drive, so a wrong or damaged
/// file is reported before boot instead of as a puzzling guest failure.
public enum ISO9660 {
    /// The primary volume descriptor sits at sector 16 (byte 0x8000): a type byte, then "CD001".
    static let descriptorOffset: UInt64 = 0x8000

    /// Checks the "CD001" signature and that the file holds the whole volume the descriptor
    /// announces (a cut-off download fails here). Returns a problem sentence, nil when fine.
    public static func problem(with disc: BlockDevice) throws(StorageError) -> String? {
        guard disc.size >= descriptorOffset + 2048 else {
            return "is not an ISO 9660 image: \(disc.size) bytes is too short for the volume descriptor at byte 0x8000"
        }
        var sector = [UInt8](repeating: 0, count: 2048)
        try sector.withUnsafeMutableBufferPointer { (bytes) throws(StorageError) in
            try disc.read(at: descriptorOffset, into: UnsafeMutableRawBufferPointer(bytes))
        }
        guard sector[1..<6].elementsEqual("CD001".utf8) else {
            return "is not an ISO 9660 image (no CD001 at byte 0x8001)"
        }
        // Both-endian fields: the little-endian half comes first.
        let blocks = UInt64(sector[80]) | UInt64(sector[81]) << 8 | UInt64(sector[82]) << 16 | UInt64(sector[83]) << 24
        let blockSize = UInt64(sector[128]) | UInt64(sector[129]) << 8
        let volume = blocks * blockSize
        guard volume <= disc.size else {
            return "is truncated: the ISO 9660 volume is \(volume) bytes but the file holds only \(disc.size)"
        }
        return nil
    }
}
