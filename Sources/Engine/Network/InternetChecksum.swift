/// The ones'-complement sum of RFC 1071 used by IPv4 headers and TCP/UDP, for the NIC's
/// checksum offload: accumulate 16-bit big-endian words, then fold and complement.
public enum InternetChecksum {
    /// Adds `bytes` to `initial` as big-endian 16-bit words (an odd last byte is padded with zero).
    public static func sum(_ bytes: ArraySlice<UInt8>, initial: UInt32 = 0) -> UInt32 {
        var total = UInt64(initial)
        var i = bytes.startIndex
        while i + 1 < bytes.endIndex {
            total += UInt64(bytes[i]) << 8 | UInt64(bytes[i + 1])
            i += 2
        }
        if i < bytes.endIndex { total += UInt64(bytes[i]) << 8 }
        while total > 0xFFFF_FFFF { total = (total & 0xFFFF_FFFF) + (total >> 32) }
        return UInt32(total)
    }

    /// Folds a 32-bit sum to 16 bits and complements it: the value stored in a header.
    public static func finish(_ sum: UInt32) -> UInt16 {
        var s = sum
        while s > 0xFFFF { s = (s & 0xFFFF) + (s >> 16) }
        return ~UInt16(s)
    }
}
