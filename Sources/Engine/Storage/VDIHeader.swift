/// The VirtualBox VDI header, version 1.1: a text preamble, the signature at 0x40, then the
/// geometry, sizes and block map location (little-endian). Only the fields we use are decoded.
struct VDIHeader {
    static let signature: UInt32 = 0xBEDA_107F
    static let version: UInt32 = 0x0001_0001
    static let length = 0x200
    static let defaultBlockSize = 1 << 20
    static let maxBlocks = 0x3FFF_FFFF
    /// Block map entries that are not block numbers.
    static let unallocated: UInt32 = 0xFFFF_FFFF
    static let zeroBlock: UInt32 = 0xFFFF_FFFE

    enum Kind: UInt32 { case dynamic = 1, fixed = 2 }

    enum Field {
        static let imageType = 0x4C
        static let bmapOffset = 0x154
        static let dataOffset = 0x158
        static let sectorSize = 0x168
        static let diskSize = 0x170
        static let blockSize = 0x178
        static let blockExtra = 0x17C
        static let blocksInImage = 0x180
        static let blocksAllocated = 0x184
        static let uuidImage = 0x188
        static let uuidLastSnapshot = 0x198
    }

    /// The 512 header bytes as read; rewritten fields are updated here and written from here.
    var bytes: StorageBytes
    let kind: Kind
    let bmapOffset: UInt64
    let dataOffset: UInt64
    let blockSize: Int

    var diskSize: UInt64 { bytes.le64(Field.diskSize) }
    var blocksInImage: Int { Int(bytes.le32(Field.blocksInImage)) }
    var blocksAllocated: Int { Int(bytes.le32(Field.blocksAllocated)) }

    init(file: ImageFile) throws(StorageError) {
        guard file.length >= UInt64(VDIHeader.length) else {
            throw file.error("truncated VDI header: the file has \(file.length) bytes, the header needs \(VDIHeader.length)")
        }
        bytes = StorageBytes(try file.read(at: 0, count: VDIHeader.length))
        let version = bytes.le32(0x44)
        guard version == VDIHeader.version else {
            throw file.error("VDI version \(version >> 16).\(version & 0xFFFF) is not supported (only 1.1; VBoxManage clonemedium makes a current copy)")
        }
        let type = bytes.le32(Field.imageType)
        guard let kind = Kind(rawValue: type) else {
            throw file.error(type == 4 || type == 3
                ? "differencing/undo VDI images are not supported (merge them in VirtualBox first)"
                : "VDI image type \(type) is unknown (1 dynamic, 2 fixed)")
        }
        self.kind = kind
        guard bytes.le32(Field.sectorSize) == 512 else {
            throw file.error("VDI sector size \(bytes.le32(Field.sectorSize)) is not supported (only 512)")
        }
        blockSize = Int(bytes.le32(Field.blockSize))
        guard blockSize >= 512, blockSize <= 64 << 20, blockSize & (blockSize - 1) == 0 else {
            throw file.error("VDI block size \(blockSize) is out of range (a power of two from 512 bytes to 64 MiB)")
        }
        guard bytes.le32(Field.blockExtra) == 0 else { throw file.error("VDI images with per-block extra data are not supported") }
        let blocks = Int(bytes.le32(Field.blocksInImage))
        guard blocks <= VDIHeader.maxBlocks else {
            throw file.error("VDI header claims \(blocks) blocks (at most \(VDIHeader.maxBlocks))")
        }
        let (capacity, overflow) = UInt64(blocks).multipliedReportingOverflow(by: UInt64(blockSize))
        guard !overflow, bytes.le64(Field.diskSize) <= capacity else {
            throw file.error("VDI disk size \(bytes.le64(Field.diskSize)) is larger than its \(blocks) blocks of \(blockSize) bytes")
        }
        guard bytes.le32(Field.blocksAllocated) <= UInt32(blocks) else {
            throw file.error("VDI header claims \(bytes.le32(Field.blocksAllocated)) allocated blocks out of \(blocks)")
        }
        bmapOffset = UInt64(bytes.le32(Field.bmapOffset))
        dataOffset = UInt64(bytes.le32(Field.dataOffset))
        guard bmapOffset >= UInt64(VDIHeader.length), bmapOffset + UInt64(blocks) * 4 <= dataOffset,
              bmapOffset + UInt64(blocks) * 4 <= file.length else {
            throw file.error("VDI block map at \(storageHex(bmapOffset)) (\(blocks) entries) overlaps the header or the data, or lies outside the file")
        }
    }

    /// Header bytes for a new image; the block map follows at 0x200 and the data starts at the
    /// next MiB boundary, which leaves the map room to grow (as VirtualBox lays images out).
    static func newImage(size: UInt64, blockSize: Int, fixed: Bool) -> StorageBytes {
        let blocks = (size + UInt64(blockSize) - 1) / UInt64(blockSize)
        var header = StorageBytes(count: length)
        let text = Array("<<< Oracle VM VirtualBox Disk Image >>>\n".utf8)
        header.bytes.replaceSubrange(0..<text.count, with: text)
        header.setLE32(0x40, signature)
        header.setLE32(0x44, version)
        header.setLE32(0x48, 0x180)
        header.setLE32(Field.imageType, (fixed ? Kind.fixed : Kind.dynamic).rawValue)
        header.setLE32(Field.bmapOffset, UInt32(length))
        let dataOffset = (UInt64(length) + blocks * 4 + (1 << 20) - 1) & ~UInt64((1 << 20) - 1)
        header.setLE32(Field.dataOffset, UInt32(dataOffset))
        header.setLE32(Field.sectorSize, 512)
        header.setLE64(Field.diskSize, size)
        header.setLE32(Field.blockSize, UInt32(blockSize))
        header.setLE32(Field.blocksInImage, UInt32(blocks))
        header.setLE32(Field.blocksAllocated, fixed ? UInt32(blocks) : 0)
        for field in [Field.uuidImage, Field.uuidLastSnapshot] {
            var uuid = (0..<16).map { _ in UInt8.random(in: 0...255) }
            uuid[7] = uuid[7] & 0x0F | 0x40  // version 4, stored little-endian as VirtualBox does
            uuid[8] = uuid[8] & 0x3F | 0x80
            header.bytes.replaceSubrange(field..<(field + 16), with: uuid)
        }
        return header
    }
}
