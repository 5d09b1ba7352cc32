/// A VirtualBox VDI image, dynamic or fixed: a block map from guest blocks to blocks in the data
/// area. A dynamic image allocates a block (1 MiB by default) on its first write.
///
/// Crash safety: a new block's data is written in full before anything points at it; the block
/// map and the allocated-block count change in memory and reach the file in `writeBack`, after an
/// fsync, count first, so a crash can leak a block but never hand one out twice.
public final class VDIImage: DiskImageFile {
    let file: ImageFile
    private var header: VDIHeader
    private var blockMap: [UInt32]
    private var blockMapDirty: Range<Int>?
    private var headerDirty = false
    /// Allocation appends at this block number: past both the header's count and every block in use.
    private var nextBlock: Int

    public var path: String { file.path }
    public var format: VMConfig.DiskFormat { .vdi }
    public var size: UInt64 { header.diskSize }
    public var isReadOnly: Bool { file.isReadOnly }

    init(file: ImageFile) throws(StorageError) {
        self.file = file
        header = try VDIHeader(file: file)
        let blocks = header.blocksInImage
        let raw = StorageBytes(try file.read(at: header.bmapOffset, count: blocks * 4))
        blockMap = (0..<blocks).map { raw.le32($0 * 4) }
        var used = [Bool](repeating: false, count: blocks)
        var highest = -1
        for (index, entry) in blockMap.enumerated() where entry < VDIHeader.zeroBlock {
            let block = Int(entry)
            guard block < blocks else {
                throw file.error("block map entry \(index) points to block \(block), past the \(blocks) blocks of the image")
            }
            guard !used[block] else {
                throw file.error("overlapping data: block map entry \(index) points to block \(block), which another entry also uses")
            }
            used[block] = true
            guard header.dataOffset + UInt64(block) * UInt64(header.blockSize) < file.length else {
                throw file.error("block map entry \(index) points to block \(block), past the end of the file")
            }
            highest = max(highest, block)
        }
        nextBlock = max(header.blocksAllocated, highest + 1)
    }

    static func create(path: String, size: UInt64, fixed: Bool) throws(StorageError) -> VDIImage {
        let blockSize = VDIHeader.defaultBlockSize
        let blocks = (size + UInt64(blockSize) - 1) / UInt64(blockSize)
        guard blocks <= UInt64(VDIHeader.maxBlocks), blocks * 4 + (2 << 20) <= UInt64(UInt32.max) else {
            throw StorageError(path: path, problem: "\(size) bytes is too large for a VDI image")
        }
        let header = VDIHeader.newImage(size: size, blockSize: blockSize, fixed: fixed)
        let dataOffset = UInt64(header.le32(VDIHeader.Field.dataOffset))
        var map = StorageBytes(count: Int(blocks) * 4)
        for block in 0..<Int(blocks) { map.setLE32(block * 4, fixed ? UInt32(block) : VDIHeader.unallocated) }
        let file = try ImageFile.create(path: path)
        try file.write(at: 0, bytes: header.bytes)
        try file.write(at: UInt64(VDIHeader.length), bytes: map.bytes)
        try file.setLength(dataOffset + (fixed ? blocks * UInt64(blockSize) : 0))
        if fixed { try file.preallocate() }
        try file.sync()
        return try VDIImage(file: file)
    }

    deinit {
        // Best effort: flush() is where errors are reported; here they can only be dropped.
        try? writeBack()
    }

    public var info: DiskImageInfo {
        let allocated = blockMap.count { $0 < VDIHeader.zeroBlock }
        return DiskImageInfo(path: path, format: .vdi, virtualSize: size, fileSize: file.length,
                             allocatedBytes: file.allocatedBytes, clusterSize: header.blockSize,
                             details: ["type: \(header.kind == .fixed ? "fixed" : "dynamic")",
                                       "blocks allocated: \(allocated) of \(blockMap.count)"])
    }

    private func blockOffset(_ block: UInt32) -> UInt64 {
        header.dataOffset + UInt64(block) * UInt64(header.blockSize)
    }

    public func read(at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(StorageError) {
        try checkAccess(at: offset, count: buffer.count, write: false)
        try forEachPiece(at: offset, count: buffer.count, unit: header.blockSize) { guest, range throws(StorageError) in
            let part = UnsafeMutableRawBufferPointer(rebasing: buffer[range])
            let entry = blockMap[Int(guest / UInt64(header.blockSize))]
            if entry < VDIHeader.zeroBlock {
                try file.read(at: blockOffset(entry) + guest % UInt64(header.blockSize), into: part)
            } else {
                part.initializeMemory(as: UInt8.self, repeating: 0)
            }
        }
    }

    public func readsAsZeros(at offset: UInt64, count: Int) throws(StorageError) -> Bool {
        try checkAccess(at: offset, count: count, write: false)
        guard count > 0 else { return true }
        let first = Int(offset / UInt64(header.blockSize))
        let last = Int((offset + UInt64(count) - 1) / UInt64(header.blockSize))
        return blockMap[first...last].allSatisfy { $0 >= VDIHeader.zeroBlock }
    }

    public func write(at offset: UInt64, from buffer: UnsafeRawBufferPointer) throws(StorageError) {
        try checkAccess(at: offset, count: buffer.count, write: true)
        try forEachPiece(at: offset, count: buffer.count, unit: header.blockSize) { guest, range throws(StorageError) in
            let part = UnsafeRawBufferPointer(rebasing: buffer[range])
            let index = Int(guest / UInt64(header.blockSize))
            let inner = Int(guest % UInt64(header.blockSize))
            let entry = blockMap[index]
            if entry < VDIHeader.zeroBlock {
                try file.write(at: blockOffset(entry) + UInt64(inner), from: part)
            } else {
                try allocate(index: index, inner: inner, with: part)
            }
        }
    }

    /// Writes a whole new block (zeros around the guest's data) at the end of the data area.
    private func allocate(index: Int, inner: Int, with part: UnsafeRawBufferPointer) throws(StorageError) {
        guard nextBlock < blockMap.count else {
            throw file.error("no free block numbers left (blocks leaked by a crash; qemu-img check -r all reclaims them)")
        }
        let block = UInt32(nextBlock)
        var data = [UInt8](repeating: 0, count: header.blockSize)
        data.withUnsafeMutableBytes { UnsafeMutableRawBufferPointer(rebasing: $0[inner..<(inner + part.count)]).copyMemory(from: part) }
        try file.write(at: blockOffset(block), bytes: data)
        nextBlock += 1
        blockMap[index] = block
        blockMapDirty = blockMapDirty.map { min($0.lowerBound, index)..<max($0.upperBound, index + 1) } ?? index..<(index + 1)
        header.bytes.setLE32(VDIHeader.Field.blocksAllocated, UInt32(nextBlock))
        headerDirty = true
    }

    public func flush() throws(StorageError) {
        guard !isReadOnly else { return }
        try writeBack()
    }

    /// Data first (fsync), then the header's block count and the block map, then fsync. When the
    /// map directly follows the header, one write covers both, so the two cannot disagree.
    private func writeBack() throws(StorageError) {
        guard !isReadOnly else { return }
        try file.sync()
        guard headerDirty || blockMapDirty != nil else { return }
        let countField = UInt64(VDIHeader.Field.blocksAllocated)
        let dirty = blockMapDirty ?? 0..<0
        var tail = StorageBytes(header.bytes.slice(Int(countField), VDIHeader.length - Int(countField)))
        if header.bmapOffset == UInt64(VDIHeader.length) {
            for index in 0..<dirty.upperBound { tail.bytes += littleEndian(blockMap[index]) }
            try file.write(at: countField, bytes: tail.bytes)
        } else {
            try file.write(at: countField, bytes: tail.bytes)
            var map: [UInt8] = []
            for index in dirty { map += littleEndian(blockMap[index]) }
            try file.write(at: header.bmapOffset + UInt64(dirty.lowerBound) * 4, bytes: map)
        }
        try file.sync()
        headerDirty = false
        blockMapDirty = nil
    }

    private func littleEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value >> 16 & 0xFF), UInt8(value >> 24)]
    }

    /// Grows the disk within the room the block map has before the data area (1 MiB of map,
    /// about 256 GiB of disk, for images vmtui creates).
    public func resize(to newSize: UInt64) throws(StorageError) {
        try checkResize(to: newSize)
        let blockSize = UInt64(header.blockSize)
        let blocks = Int((newSize + blockSize - 1) / blockSize)
        let room = Int((header.dataOffset - header.bmapOffset) / 4)
        guard blocks <= room else {
            throw file.error("the VDI block map has room for \(room) blocks (\(UInt64(room) * blockSize) bytes); convert to qcow2 to grow further")
        }
        let oldBlocks = blockMap.count
        if blocks > oldBlocks {
            try writeBack()
            var map: [UInt8] = []
            for index in oldBlocks..<blocks {
                let entry = header.kind == .fixed ? UInt32(nextBlock + index - oldBlocks) : VDIHeader.unallocated
                blockMap.append(entry)
                map += littleEndian(entry)
            }
            if header.kind == .fixed {
                nextBlock += blocks - oldBlocks
                try file.setLength(blockOffset(UInt32(nextBlock)))
                header.bytes.setLE32(VDIHeader.Field.blocksAllocated, UInt32(nextBlock))
            }
            try file.write(at: header.bmapOffset + UInt64(oldBlocks) * 4, bytes: map)
            try file.sync()
        }
        header.bytes.setLE64(VDIHeader.Field.diskSize, newSize)
        header.bytes.setLE32(VDIHeader.Field.blocksInImage, UInt32(blockMap.count))
        try file.write(at: 0, bytes: header.bytes.bytes)
        try file.sync()
    }
}
