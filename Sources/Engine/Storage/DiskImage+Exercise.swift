extension DiskImage {
    /// Opens an untrusted image and drives every parser path a guest could reach: probe, header,
    /// tables, reads across the disk, then (writable) writes, a flush, a grow and a reopen.
    /// Returns false when something written does not read back. Refusals are thrown as
    /// StorageError; anything else (a trap, a hang, a huge allocation) is a bug. The libFuzzer
    /// harness (scripts/fuzz-storage) and the regression corpus test both run this.
    public static func exercise(path: String) throws(StorageError) -> Bool {
        do {
            let image = try open(path: path, readOnly: true)
            _ = image.info
            for (offset, count) in samples(size: image.size) {
                _ = try image.readsAsZeros(at: offset, count: count)
                var buffer = [UInt8](repeating: 0, count: count)
                try buffer.withUnsafeMutableBufferPointer { (raw) throws(StorageError) in try image.read(at: offset, into: UnsafeMutableRawBufferPointer(raw)) }
            }
        }
        // What each written sector must hold afterwards (samples of small disks overlap: last write wins).
        var expected: [UInt64: ArraySlice<UInt8>] = [:]
        do {
            let image = try open(path: path, readOnly: false)
            for (index, (offset, count)) in samples(size: image.size).enumerated() where index % 2 == 0 {
                // Every sector different (a hash of its number), so two guest sectors sharing one
                // host cluster show up as data that does not read back.
                let bytes = (0..<count).map { byte in
                    let sector = (offset + UInt64(byte)) / 512 &+ UInt64(index) << 48
                    return UInt8(truncatingIfNeeded: (sector &* 0x9E37_79B9_7F4A_7C15) >> 56 &+ UInt64(byte & 511))
                }
                try bytes.withUnsafeBufferPointer { (raw) throws(StorageError) in try image.write(at: offset, from: UnsafeRawBufferPointer(raw)) }
                for sector in 0..<(count / 512) {
                    expected[offset / 512 + UInt64(sector)] = bytes[(sector * 512)..<((sector + 1) * 512)]
                }
            }
            try image.flush()
            // Grows by one 64 KiB step: new L1/block-map entries, maybe a moved table.
            if image.size <= UInt64.max - (1 << 16) { try? image.resize(to: (image.size + (1 << 16)) & ~UInt64(511)) }
            try image.flush()
        }
        let image = try open(path: path, readOnly: true)
        var buffer = [UInt8](repeating: 0, count: 512)
        for (sector, bytes) in expected {
            try buffer.withUnsafeMutableBufferPointer { (raw) throws(StorageError) in
                try image.read(at: sector * 512, into: UnsafeMutableRawBufferPointer(raw))
            }
            if buffer[...] != bytes { return false }
        }
        return true
    }

    /// Sector-aligned ranges at the start, spread over the disk and at the end (at most 64 KiB each).
    private static func samples(size: UInt64) -> [(offset: UInt64, count: Int)] {
        let sectors = size / 512
        guard sectors > 0 else { return [] }
        let span = min(sectors, 128)
        return (0...5).map { part in
            let first = (sectors - span) / 5 * UInt64(part)
            return (first * 512, Int(span) * 512)
        }
    }
}
