/// One bit per host cluster: which clusters an image's active tables already use for guest
/// data, so a second guest cluster pointing at the same host cluster is caught. 2 MiB of bits
/// cover a 1 TiB image of 64 KiB clusters.
struct ClusterBitmap {
    private var words: [UInt64] = []

    /// Sets the bit; false when it was already set.
    mutating func insert(_ cluster: UInt64) -> Bool {
        let word = Int(cluster >> 6)
        if word >= words.count { words += [UInt64](repeating: 0, count: word + 1 - words.count) }
        let bit = UInt64(1) << (cluster & 63)
        defer { words[word] |= bit }
        return words[word] & bit == 0
    }

    mutating func remove(_ cluster: UInt64) {
        let word = Int(cluster >> 6)
        guard word < words.count else { return }
        words[word] &= ~(UInt64(1) << (cluster & 63))
    }
}
