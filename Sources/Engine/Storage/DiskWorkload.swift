/// A deterministic random write workload: the same seed gives the same writes, and every sector
/// of every write holds a pattern naming the write and the sector. `vmtui disk exercise` runs it
/// until killed; the crash tests replay it to know what a sector may hold afterwards.
public struct DiskWorkload: Sendable {
    public let seed: UInt64
    public let diskSize: UInt64
    public let maxSectors: Int

    public init(seed: UInt64, diskSize: UInt64, maxSectors: Int = 256) {
        self.seed = seed
        self.diskSize = diskSize
        self.maxSectors = max(1, maxSectors)
    }

    /// Write number `index`: where it goes and how many 512-byte sectors it covers.
    public func write(_ index: Int) -> (offset: UInt64, sectors: Int) {
        var state = seed &+ UInt64(index) &* 0x9E37_79B9_7F4A_7C15
        let a = DiskWorkload.splitMix(&state)
        let b = DiskWorkload.splitMix(&state)
        let diskSectors = diskSize / 512
        let sectors = Int(min(UInt64(1 + Int(a % UInt64(maxSectors))), diskSectors))
        let first = b % (diskSectors - UInt64(sectors) + 1)
        return (first * 512, sectors)
    }

    /// The contents write `index` puts in the sector at byte `offset` of the disk.
    public static func pattern(write index: Int, sectorAt offset: UInt64, into sector: UnsafeMutableRawBufferPointer) {
        let word = UInt64(index + 1) << 40 | offset / 512
        for i in stride(from: 0, to: sector.count - 7, by: 8) {
            sector.storeBytes(of: (word &+ UInt64(i)).littleEndian, toByteOffset: i, as: UInt64.self)
        }
    }

    /// Applies write `index` to `device`.
    public func perform(_ index: Int, on device: any BlockDevice) throws(StorageError) {
        let (offset, sectors) = write(index)
        var data = [UInt8](repeating: 0, count: sectors * 512)
        data.withUnsafeMutableBytes { raw in
            for s in 0..<sectors {
                let sector = UnsafeMutableRawBufferPointer(rebasing: raw[(s * 512)..<((s + 1) * 512)])
                DiskWorkload.pattern(write: index, sectorAt: offset + UInt64(s * 512), into: sector)
            }
        }
        try data.withUnsafeBufferPointer { (bytes) throws(StorageError) in
            try device.write(at: offset, from: UnsafeRawBufferPointer(bytes))
        }
    }

    private static func splitMix(_ state: inout UInt64) -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
