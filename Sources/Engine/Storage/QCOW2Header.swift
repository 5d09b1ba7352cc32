/// The qcow2 header (QEMU's docs/interop/qcow2.txt), versions 2 and 3, with its extensions.
/// Parsing checks every field against the file it came from and refuses what we cannot handle.
struct QCOW2Header {
    static let magic: UInt32 = 0x5146_49FB
    static let minClusterBits = 9
    static let maxClusterBits = 21
    static let v2Length = 72
    static let v3MinLength = 104
    /// QEMU's limits: bigger tables mean a hostile or broken header, not a real disk.
    static let maxL1Bytes = 32 << 20
    static let maxRefcountTableBytes = 8 << 20
    static let maxSnapshots: UInt32 = 65536

    /// Byte offsets of the fields we rewrite in place.
    enum Field {
        static let size = 24
        static let l1Size = 36
        static let l1Offset = 40
        static let refcountTableOffset = 48
        static let refcountTableClusters = 56
        static let autoclearFeatures = 88
    }

    enum Incompatible {
        static let dirty: UInt64 = 1 << 0
        static let corrupt: UInt64 = 1 << 1
        static let known: UInt64 = dirty | corrupt
    }

    var version: UInt32
    var clusterBits: Int
    var size: UInt64
    var l1Size: Int
    var l1Offset: UInt64
    var refcountTableOffset: UInt64
    var refcountTableClusters: Int
    var snapshotCount: Int
    var snapshotsOffset: UInt64
    var incompatibleFeatures: UInt64
    var autoclearFeatures: UInt64
    var refcountOrder: Int
    var backingFile: String?
    var backingFormat: String?

    var clusterSize: Int { 1 << clusterBits }

    /// Reads and validates the header of `file`. `readOnly` relaxes the checks that only matter
    /// for writing (dirty and corrupt flags).
    init(file: ImageFile, readOnly: Bool) throws(StorageError) {
        guard file.length >= UInt64(QCOW2Header.v2Length) else {
            throw file.error("truncated qcow2 header: the file has \(file.length) bytes, the header needs \(QCOW2Header.v2Length)")
        }
        let fixed = StorageBytes(try file.read(at: 0, count: QCOW2Header.v3MinLength))
        version = fixed.be32(4)
        guard version == 2 || version == 3 else {
            throw file.error("qcow2 version \(version) is not supported (only 2 and 3; qemu-img convert -O qcow2 makes a version 3 copy)")
        }
        clusterBits = Int(fixed.be32(20))
        guard (QCOW2Header.minClusterBits...QCOW2Header.maxClusterBits).contains(clusterBits) else {
            throw file.error("cluster_bits \(clusterBits) is out of range (\(QCOW2Header.minClusterBits)...\(QCOW2Header.maxClusterBits))")
        }
        let clusterSize = 1 << clusterBits
        guard fixed.be32(32) == 0 else { throw file.error("encrypted qcow2 images are not supported (decrypt with qemu-img convert)") }
        size = fixed.be64(24)
        l1Size = Int(fixed.be32(36))
        l1Offset = fixed.be64(40)
        refcountTableOffset = fixed.be64(48)
        refcountTableClusters = Int(fixed.be32(56))
        let snapshots = fixed.be32(60)
        guard snapshots <= QCOW2Header.maxSnapshots else { throw file.error("header claims \(snapshots) snapshots (at most \(QCOW2Header.maxSnapshots))") }
        snapshotCount = Int(snapshots)
        snapshotsOffset = fixed.be64(64)

        let headerLength: Int
        if version == 3 {
            guard file.length >= UInt64(QCOW2Header.v3MinLength) else {
                throw file.error("truncated qcow2 v3 header: the file has \(file.length) bytes, the header needs \(QCOW2Header.v3MinLength)")
            }
            incompatibleFeatures = fixed.be64(72)
            autoclearFeatures = fixed.be64(88)
            refcountOrder = Int(fixed.be32(96))
            headerLength = Int(fixed.be32(100))
            guard headerLength >= QCOW2Header.v3MinLength, headerLength <= clusterSize, headerLength % 8 == 0 else {
                throw file.error("header_length \(headerLength) is invalid (a multiple of 8 from \(QCOW2Header.v3MinLength) to the cluster size \(clusterSize))")
            }
        } else {
            incompatibleFeatures = 0
            autoclearFeatures = 0
            refcountOrder = 4
            headerLength = QCOW2Header.v2Length
        }
        guard refcountOrder <= 6 else { throw file.error("refcount_order \(refcountOrder) is out of range (0...6)") }

        // The header cluster holds the extensions and the backing file name.
        let cluster = StorageBytes(try file.read(at: 0, count: Int(min(UInt64(clusterSize), file.length))))
        var featureNames: [UInt64: String] = [:]
        var offset = headerLength
        var backingFormat: String?
        while offset + 8 <= cluster.count {
            let type = cluster.be32(offset)
            let length = Int(cluster.be32(offset + 4))
            if type == 0 { break }
            guard length <= cluster.count - offset - 8 else {
                throw file.error("header extension \(storageHex(UInt64(type))) at \(offset) runs past the header cluster")
            }
            let body = cluster.slice(offset + 8, length)
            switch type {
            case 0xE279_2ACA: backingFormat = String(decoding: body, as: UTF8.self)
            case 0x6803_F857:
                // Feature name table: 48-byte entries of type, bit number, name; only incompatible ones matter here.
                for entry in stride(from: 0, to: body.count - 47, by: 48) where body[entry] == 0 && body[entry + 1] < 64 {
                    let name = body[(entry + 2)..<(entry + 48)].prefix { $0 != 0 }
                    featureNames[UInt64(body[entry + 1])] = String(decoding: name, as: UTF8.self)
                }
            case 0x0537_BE77: throw file.error("encrypted qcow2 images are not supported (decrypt with qemu-img convert)")
            case 0x4441_5441: throw file.error("qcow2 images with an external data file are not supported")
            default: break
            }
            offset += 8 + (length + 7) / 8 * 8
        }
        self.backingFormat = backingFormat

        let unknown = incompatibleFeatures & ~Incompatible.known
        if unknown != 0 {
            let names = (0..<64).filter { unknown & (1 << UInt64($0)) != 0 }.map { bit in
                featureNames[UInt64(bit)].map { "\($0) (bit \(bit))" } ?? "bit \(bit)"
            }
            throw file.error("unsupported qcow2 incompatible features: \(names.joined(separator: ", ")) (qemu-img convert -O qcow2 -o compat=1.1 makes a plain copy)")
        }
        if !readOnly && incompatibleFeatures & Incompatible.dirty != 0 {
            throw file.error("the image was not closed cleanly (dirty bit); repair it with qemu-img check -r all, or open it read-only")
        }
        if !readOnly && incompatibleFeatures & Incompatible.corrupt != 0 {
            throw file.error("the image is marked corrupt; repair it with qemu-img check -r all, or open it read-only")
        }

        let backingOffset = fixed.be64(8)
        let backingSize = Int(fixed.be32(16))
        if backingOffset != 0 {
            guard backingSize > 0, backingSize <= 1023, backingOffset < UInt64(clusterSize),
                  Int(backingOffset) + backingSize <= cluster.count else {
                throw file.error("backing file name (offset \(backingOffset), \(backingSize) bytes) lies outside the header cluster")
            }
            backingFile = String(decoding: cluster.slice(Int(backingOffset), backingSize), as: UTF8.self)
        } else {
            backingFile = nil
        }
    }

    /// A header for a new, empty image: refcount table in cluster 1, its first block in cluster 2,
    /// no L1 table yet (`QCOW2Image.resize` adds it).
    static func newImage(version: UInt32, clusterBits: Int) -> StorageBytes {
        let clusterSize = 1 << clusterBits
        var header = StorageBytes(count: clusterSize)
        header.setBE32(0, magic)
        header.setBE32(4, version)
        header.setBE32(20, UInt32(clusterBits))
        header.setBE64(Field.refcountTableOffset, UInt64(clusterSize))
        header.setBE32(Field.refcountTableClusters, 1)
        if version == 3 {
            header.setBE32(96, 4)
            header.setBE32(100, UInt32(v3MinLength))
        }
        return header
    }
}
