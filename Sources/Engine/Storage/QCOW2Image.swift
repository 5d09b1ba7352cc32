import CZlib

/// A qcow2 image (QEMU's format), version 3 and version 2: two-level cluster tables, refcounts
/// kept exact on every allocation, copy-on-write for clusters shared with internal snapshots,
/// zero clusters, compressed clusters (read), and a read-only backing file.
///
/// Crash safety: guest data goes straight to newly allocated clusters; the tables that point to
/// it change in memory and reach the file in `writeBack`, in the order refcount blocks, refcount
/// table, L2 tables, L1 table, with an fsync after each stage and reference drops last. A crash at
/// any point leaves at worst leaked clusters, never a table pointing at a cluster whose refcount
/// does not count it.
public final class QCOW2Image: DiskImageFile {
    static let offsetMask: UInt64 = 0x00FF_FFFF_FFFF_FE00
    static let copiedFlag: UInt64 = 1 << 63
    static let compressedFlag: UInt64 = 1 << 62
    static let zeroFlag: UInt64 = 1

    public var path: String { file.path }
    public var format: VMConfig.DiskFormat { .qcow2 }
    public private(set) var size: UInt64
    public var isReadOnly: Bool { file.isReadOnly }

    let file: ImageFile
    let header: QCOW2Header
    let clusterBits: Int
    let clusterSize: Int
    /// log2 of the entries in one L2 table.
    let l2Bits: Int
    let refcountBits: Int
    let refcountMax: UInt64
    private(set) var backing: (any DiskImageFile)?

    var l1: [UInt64] = []
    var l1Offset: UInt64
    var l1Dirty: Range<Int>?
    /// A resize moved the L1 table: the new one and the header still have to be written.
    var l1Moved: (oldOffset: UInt64, oldClusters: Int)?
    var headerSizeDirty = false

    var refcountTable: [UInt64] = []
    var refcountTableOffset: UInt64
    var refcountTableClusters: Int
    var refcountTableDirty: Range<Int>?
    var refcountTableMoved: (oldOffset: UInt64, oldClusters: Int)?

    let l2Cache: MetadataCache
    let refblockCache: MetadataCache
    /// Clusters (index) holding L2 tables and refcount blocks, to catch tables that overlap
    /// each other and data clusters that point into metadata.
    var metadataClusters: Set<UInt64> = []
    /// Host clusters holding guest data of the L2 tables in `scannedL2` (offsets): each may be
    /// used once, or writes to one guest cluster would show up in another.
    var dataClusters = ClusterBitmap()
    var scannedL2: Set<UInt64> = []
    /// Byte ranges of the header, L1 table, refcount table and snapshot table.
    var fixedRanges: [(range: Range<UInt64>, name: String)] = []
    /// Allocation appends: the first cluster index past everything in use.
    var nextFreeCluster: UInt64
    /// Clusters whose reference was dropped; their refcounts go down only after the tables
    /// that dropped them are on disk.
    var pendingFrees: [UInt64] = []
    var lastInflated: (offset: UInt64, data: [UInt8])?

    init(file: ImageFile, backingDepth: Int) throws(StorageError) {
        self.file = file
        let header = try QCOW2Header(file: file, readOnly: file.isReadOnly)
        self.header = header
        clusterBits = header.clusterBits
        clusterSize = header.clusterSize
        l2Bits = clusterBits - 3
        refcountBits = 1 << header.refcountOrder
        refcountMax = refcountBits == 64 ? UInt64.max : (1 << UInt64(refcountBits)) - 1
        size = header.size
        l1Offset = header.l1Offset
        refcountTableOffset = header.refcountTableOffset
        refcountTableClusters = header.refcountTableClusters
        nextFreeCluster = (file.length + UInt64(clusterSize) - 1) >> UInt64(clusterBits)
        l2Cache = MetadataCache(capacity: (32 << 20) >> clusterBits)
        refblockCache = MetadataCache(capacity: (4 << 20) >> clusterBits)

        let perL1Entry = UInt64(1) << UInt64(clusterBits + l2Bits)
        let maxL1Entries = QCOW2Header.maxL1Bytes / 8
        let neededL1 = size / perL1Entry + (size % perL1Entry == 0 ? 0 : 1)
        guard neededL1 <= UInt64(maxL1Entries) else {
            throw file.error("virtual size \(size) is too large for \(clusterSize)-byte clusters (at most \(UInt64(maxL1Entries) * perL1Entry) bytes)")
        }
        guard header.l1Size <= maxL1Entries else {
            throw file.error("L1 table of \(header.l1Size) entries is larger than the limit of \(maxL1Entries)")
        }
        guard UInt64(header.l1Size) >= neededL1 else {
            throw file.error("L1 table has \(header.l1Size) entries but the virtual size \(size) needs \(neededL1)")
        }
        guard header.refcountTableClusters >= 1,
              header.refcountTableClusters * clusterSize <= QCOW2Header.maxRefcountTableBytes else {
            throw file.error("refcount table of \(header.refcountTableClusters) clusters is out of range (1 to \(QCOW2Header.maxRefcountTableBytes / clusterSize))")
        }

        fixedRanges.append((0..<UInt64(clusterSize), "the header"))
        if header.l1Size > 0 {
            try addFixedRange(at: header.l1Offset, bytes: header.l1Size * 8, name: "the L1 table")
        }
        try addFixedRange(at: header.refcountTableOffset, bytes: header.refcountTableClusters * clusterSize, name: "the refcount table")
        if header.snapshotCount > 0 { try registerSnapshots() }

        l1 = try QCOW2Image.readTable(file, at: header.l1Offset, count: header.l1Size)
        refcountTable = try QCOW2Image.readTable(file, at: header.refcountTableOffset, count: header.refcountTableClusters * clusterSize / 8)
        for (index, entry) in l1.enumerated() where entry & QCOW2Image.offsetMask != 0 {
            try addMetadataCluster(entry & QCOW2Image.offsetMask, name: "L2 table of L1 entry \(index)")
        }
        for (index, entry) in refcountTable.enumerated() where entry != 0 {
            try addMetadataCluster(entry & ~UInt64(clusterSize - 1), name: "refcount block \(index)")
        }

        if let name = header.backingFile {
            backing = try QCOW2Image.openBacking(name, of: file, depth: backingDepth)
        }
        if !file.isReadOnly && header.autoclearFeatures != 0 {
            // Autoclear features (bitmaps...) describe data we do not maintain: clearing the bits
            // tells QEMU they are stale, as the spec asks of writers that do not know them.
            var zero = StorageBytes(count: 8)
            zero.setBE64(0, 0)
            try file.write(at: UInt64(QCOW2Header.Field.autoclearFeatures), bytes: zero.bytes)
            try file.sync()
        }
    }

    deinit {
        // Best effort: flush() is where errors are reported; here they can only be dropped.
        try? writeBack()
    }

    public var info: DiskImageInfo {
        var details = ["version: \(header.version) (compat \(header.version == 3 ? "1.1" : "0.10"))",
                       "refcount bits: \(refcountBits)"]
        if let backing = header.backingFile {
            details.append("backing file: \(backing)" + (header.backingFormat.map { " (\($0))" } ?? ""))
        }
        if header.snapshotCount > 0 { details.append("internal snapshots: \(header.snapshotCount)") }
        if header.incompatibleFeatures & QCOW2Header.Incompatible.dirty != 0 { details.append("dirty: yes") }
        if header.incompatibleFeatures & QCOW2Header.Incompatible.corrupt != 0 { details.append("corrupt: yes") }
        return DiskImageInfo(path: path, format: .qcow2, virtualSize: size, fileSize: file.length,
                             allocatedBytes: file.allocatedBytes, clusterSize: clusterSize, details: details)
    }

    // MARK: - Validation helpers

    func addFixedRange(at offset: UInt64, bytes: Int, name: String) throws(StorageError) {
        guard offset & UInt64(clusterSize - 1) == 0, offset != 0 else {
            throw file.error("\(name) at \(storageHex(offset)) is not at a cluster boundary past the header")
        }
        let (end, overflow) = offset.addingReportingOverflow(UInt64(bytes))
        guard !overflow, end <= file.length else {
            throw file.error("\(name) at \(storageHex(offset)) (\(bytes) bytes) lies outside the file (\(file.length) bytes)")
        }
        let clusterEnd = (end + UInt64(clusterSize) - 1) & ~UInt64(clusterSize - 1)
        let range = offset..<clusterEnd
        if let other = fixedRanges.first(where: { $0.range.overlaps(range) }) {
            throw file.error("overlapping metadata: \(name) at \(storageHex(offset)) overlaps \(other.name)")
        }
        fixedRanges.append((range, name))
    }

    func addMetadataCluster(_ offset: UInt64, name: String) throws(StorageError) {
        guard offset & UInt64(clusterSize - 1) == 0 else {
            throw file.error("\(name) at \(storageHex(offset)) is not cluster aligned")
        }
        guard offset < file.length, file.length - offset >= UInt64(clusterSize) else {
            throw file.error("\(name) at \(storageHex(offset)) lies outside the file (\(file.length) bytes)")
        }
        if let other = fixedRanges.first(where: { $0.range.contains(offset) }) {
            throw file.error("overlapping metadata: \(name) at \(storageHex(offset)) lies inside \(other.name)")
        }
        guard metadataClusters.insert(offset >> UInt64(clusterBits)).inserted else {
            throw file.error("overlapping metadata: \(name) at \(storageHex(offset)) is also used by another table")
        }
    }

    /// Checks that a data cluster from an L2 entry is a place guest data may live.
    func checkDataCluster(_ host: UInt64, guest: UInt64) throws(StorageError) {
        guard host & UInt64(clusterSize - 1) == 0 else {
            throw file.error("L2 entry for guest offset \(storageHex(guest)) points to unaligned host offset \(storageHex(host))")
        }
        guard host < file.length else {
            throw file.error("L2 entry for guest offset \(storageHex(guest)) points to \(storageHex(host)), past the end of the file")
        }
        if metadataClusters.contains(host >> UInt64(clusterBits)) || fixedRanges.contains(where: { $0.range.contains(host) }) {
            throw file.error("overlapping metadata: guest offset \(storageHex(guest)) maps to metadata cluster \(storageHex(host))")
        }
    }

    static func readTable(_ file: ImageFile, at offset: UInt64, count: Int) throws(StorageError) -> [UInt64] {
        guard count > 0 else { return [] }
        let bytes = StorageBytes(try file.read(at: offset, count: count * 8))
        return (0..<count).map { bytes.be64($0 * 8) }
    }

    private static func openBacking(_ name: String, of file: ImageFile, depth: Int) throws(StorageError) -> any DiskImageFile {
        guard depth < DiskImage.maxBackingDepth else {
            throw file.error("backing file chain is deeper than \(DiskImage.maxBackingDepth) (a loop?)")
        }
        let resolved: String
        if name.hasPrefix("/") {
            resolved = name
        } else if let slash = file.path.lastIndex(of: "/") {
            resolved = String(file.path[...slash]) + name
        } else {
            resolved = name
        }
        do {
            return try DiskImage.open(path: resolved, readOnly: true, backingDepth: depth + 1)
        } catch {
            throw file.error("backing file: \(error.description)")
        }
    }

    // MARK: - Guest I/O

    public func read(at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(StorageError) {
        try checkAccess(at: offset, count: buffer.count, write: false)
        try forEachPiece(at: offset, count: buffer.count, unit: clusterSize) { guest, range throws(StorageError) in
            try readCluster(guest: guest, into: UnsafeMutableRawBufferPointer(rebasing: buffer[range]))
        }
    }

    private func readCluster(guest: UInt64, into part: UnsafeMutableRawBufferPointer) throws(StorageError) {
        let entry = try l2Entry(forGuest: guest)
        let inner = Int(guest & UInt64(clusterSize - 1))
        switch try mapping(entry, guest: guest) {
        case .unallocated:
            try readBacking(guest: guest, into: part)
        case .zero:
            part.initializeMemory(as: UInt8.self, repeating: 0)
        case .data(let host, _):
            try file.read(at: host + UInt64(inner), into: part)
        case .compressed(let offset, let sectors):
            let data = try inflate(offset: offset, sectors: sectors, guest: guest)
            data.withUnsafeBytes { part.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[inner..<(inner + part.count)])) }
        }
    }

    private func readBacking(guest: UInt64, into part: UnsafeMutableRawBufferPointer) throws(StorageError) {
        part.initializeMemory(as: UInt8.self, repeating: 0)
        guard let backing, guest < backing.size else { return }
        let count = Int(min(UInt64(part.count), backing.size - guest))
        try backing.read(at: guest, into: UnsafeMutableRawBufferPointer(rebasing: part[0..<count]))
    }

    public func readsAsZeros(at offset: UInt64, count: Int) throws(StorageError) -> Bool {
        try checkAccess(at: offset, count: count, write: false)
        var guest = offset & ~UInt64(clusterSize - 1)
        while guest < offset + UInt64(count) {
            switch try mapping(try l2Entry(forGuest: guest), guest: guest) {
            case .zero: break
            case .unallocated:
                if let backing, guest < backing.size {
                    let length = Int(min(UInt64(clusterSize), backing.size - guest))
                    guard try backing.readsAsZeros(at: guest, count: length) else { return false }
                }
            case .data, .compressed: return false
            }
            guest += UInt64(clusterSize)
        }
        return true
    }

    public func write(at offset: UInt64, from buffer: UnsafeRawBufferPointer) throws(StorageError) {
        try checkAccess(at: offset, count: buffer.count, write: true)
        try forEachPiece(at: offset, count: buffer.count, unit: clusterSize) { guest, range throws(StorageError) in
            try writeCluster(guest: guest, from: UnsafeRawBufferPointer(rebasing: buffer[range]))
        }
        if l2Cache.needsWriteBack || refblockCache.needsWriteBack { try writeBack() }
    }

    private func writeCluster(guest: UInt64, from part: UnsafeRawBufferPointer) throws(StorageError) {
        let inner = Int(guest & UInt64(clusterSize - 1))
        let (table, tableOffset) = try l2TableForWrite(guest: guest)
        let index = Int((guest >> UInt64(clusterBits)) & UInt64((1 << l2Bits) - 1))
        let entry = table.data.be64(index * 8)
        let current = try mapping(entry, guest: guest)
        if case .data(let host, let copied) = current, try owns(host, copied: copied) {
            try file.write(at: host + UInt64(inner), from: part)
            if !copied {
                table.data.setBE64(index * 8, host | QCOW2Image.copiedFlag)
                l2Cache.markDirty(tableOffset, table)
            }
            return
        }

        // The cluster gets new contents as a whole: what the guest saw before, then this write.
        var cluster = [UInt8](repeating: 0, count: clusterSize)
        try cluster.withUnsafeMutableBufferPointer { (words) throws(StorageError) in
            let whole = UnsafeMutableRawBufferPointer(words)
            if part.count < clusterSize {
                let start = guest & ~UInt64(clusterSize - 1)
                try readCluster(guest: start, into: whole)
            }
            UnsafeMutableRawBufferPointer(rebasing: whole[inner..<(inner + part.count)]).copyMemory(from: part)
        }
        let target: UInt64
        if case .zero(let host, let copied) = current, host != 0, try owns(host, copied: copied) {
            target = host  // a preallocated zero cluster we own: fill it in place
            try file.write(at: target, bytes: cluster)
        } else {
            target = try allocateClusters(1)
            do throws(StorageError) {
                try file.write(at: target, bytes: cluster)
            } catch {
                // A full host disk: the cluster goes back, so the tables never count data that is
                // not there and a retry allocates it again.
                try adjustRefcount(ofCluster: target >> UInt64(clusterBits), by: -1)
                nextFreeCluster = min(nextFreeCluster, target >> UInt64(clusterBits))
                throw error
            }
            _ = dataClusters.insert(target >> UInt64(clusterBits))
            releaseReference(current)
        }
        table.data.setBE64(index * 8, target | QCOW2Image.copiedFlag)
        l2Cache.markDirty(tableOffset, table)
    }

    /// Whether the active image alone references a cluster, so it may be changed in place.
    private func owns(_ host: UInt64, copied: Bool) throws(StorageError) -> Bool {
        if copied { return true }
        return try refcount(ofCluster: host >> UInt64(clusterBits)) == 1
    }

    /// Queues the refcount drop for the host clusters an L2 entry stops pointing at.
    private func releaseReference(_ old: QCOW2Mapping) {
        switch old {
        case .unallocated: break
        case .zero(let host, _) where host != 0, .data(let host, _):
            pendingFrees.append(host >> UInt64(clusterBits))
            dataClusters.remove(host >> UInt64(clusterBits))
        case .zero: break
        case .compressed(let offset, let sectors):
            let end = (offset & ~511) + UInt64(sectors) * 512 - 1
            for cluster in (offset >> UInt64(clusterBits))...(end >> UInt64(clusterBits)) { pendingFrees.append(cluster) }
        }
    }

    public func flush() throws(StorageError) {
        guard !isReadOnly else { return }
        try writeBack()
    }

    public var supportsDiscard: Bool { !isReadOnly }

    /// Whole clusters in the range stop pointing at host clusters (unallocated, or zero clusters
    /// when a backing file would otherwise show through; a version 2 image with a backing file
    /// cannot say "zero" and keeps its data). The freed host clusters are punched out of the
    /// file once the tables no longer reference them (`writeBack`).
    public func discard(at offset: UInt64, count: UInt64) throws(StorageError) {
        try checkAccess(at: offset, count: Int(clamping: count), write: true)
        let replacement: UInt64
        if backing == nil {
            replacement = 0
        } else if header.version >= 3 {
            replacement = QCOW2Image.zeroFlag
        } else {
            return
        }
        let unit = UInt64(clusterSize)
        let perL1Entry = unit << UInt64(l2Bits)
        var guest = (offset + unit - 1) / unit * unit
        while guest < offset + count, offset + count - guest >= unit {
            let l1Index = Int(guest >> UInt64(clusterBits + l2Bits))
            if l1[l1Index] & QCOW2Image.offsetMask == 0 && backing == nil {
                guest = (guest / perL1Entry + 1) * perL1Entry  // nothing allocated under this L1 entry
                continue
            }
            let entry = try l2Entry(forGuest: guest)
            if entry != replacement {
                let current = try mapping(entry, guest: guest)
                let (table, tableOffset) = try l2TableForWrite(guest: guest)
                let index = Int((guest >> UInt64(clusterBits)) & UInt64((1 << l2Bits) - 1))
                table.data.setBE64(index * 8, replacement)
                l2Cache.markDirty(tableOffset, table)
                releaseReference(current)
            }
            guest += unit
        }
        try writeBack()
    }

    // MARK: - Tables

    func mapping(_ entry: UInt64, guest: UInt64) throws(StorageError) -> QCOW2Mapping {
        if entry & QCOW2Image.compressedFlag != 0 {
            let shift = UInt64(62 - (clusterBits - 8))
            let offset = entry & ((1 << shift) - 1)
            let sectors = Int((entry >> shift) & ((1 << UInt64(clusterBits - 8)) - 1)) + 1
            guard offset < file.length else {
                throw file.error("compressed cluster for guest offset \(storageHex(guest)) at \(storageHex(offset)) lies past the end of the file")
            }
            return .compressed(offset: offset, sectors: sectors)
        }
        let host = entry & QCOW2Image.offsetMask
        let copied = entry & QCOW2Image.copiedFlag != 0
        if header.version >= 3 && entry & QCOW2Image.zeroFlag != 0 {
            if host != 0 { try checkDataCluster(host, guest: guest) }
            return .zero(host: host, copied: copied)
        }
        if host == 0 { return .unallocated }
        try checkDataCluster(host, guest: guest)
        return .data(host: host, copied: copied)
    }

    private func l2Entry(forGuest guest: UInt64) throws(StorageError) -> UInt64 {
        let l1Index = Int(guest >> UInt64(clusterBits + l2Bits))
        guard l1Index < l1.count else { return 0 }
        let l2Offset = l1[l1Index] & QCOW2Image.offsetMask
        guard l2Offset != 0 else { return 0 }
        let table = try loadL2(at: l2Offset, l1Index: l1Index)
        return table.data.be64(Int((guest >> UInt64(clusterBits)) & UInt64((1 << l2Bits) - 1)) * 8)
    }

    /// The L2 table of L1 entry `l1Index`; the first time, its entries are checked and their
    /// data clusters recorded, so two guest clusters sharing one host cluster are refused.
    private func loadL2(at offset: UInt64, l1Index: Int) throws(StorageError) -> MetadataTable {
        let table = try loadTable(at: offset, cache: l2Cache)
        guard scannedL2.insert(offset).inserted else { return table }
        let first = UInt64(l1Index) << UInt64(clusterBits + l2Bits)
        for index in 0..<(1 << l2Bits) {
            let guest = first + UInt64(index) << UInt64(clusterBits)
            let host: UInt64
            switch try mapping(table.data.be64(index * 8), guest: guest) {
            case .data(let h, _), .zero(let h, _): host = h
            case .unallocated, .compressed: continue
            }
            guard host != 0 else { continue }
            guard dataClusters.insert(host >> UInt64(clusterBits)) else {
                scannedL2.remove(offset)
                throw file.error("overlapping data: guest offset \(storageHex(guest)) maps to host cluster \(storageHex(host)), which another guest cluster also uses (qemu-img check -r all repairs it)")
            }
        }
        return table
    }

    func loadTable(at offset: UInt64, cache: MetadataCache) throws(StorageError) -> MetadataTable {
        if let table = cache.table(at: offset) { return table }
        let table = MetadataTable(StorageBytes(try file.read(at: offset, count: clusterSize)))
        cache.insert(table, at: offset)
        return table
    }

    /// The L2 table covering `guest`, owned by the active L1 only: allocated if missing, copied
    /// if shared with a snapshot.
    private func l2TableForWrite(guest: UInt64) throws(StorageError) -> (MetadataTable, UInt64) {
        let l1Index = Int(guest >> UInt64(clusterBits + l2Bits))
        let entry = l1[l1Index]
        let oldOffset = entry & QCOW2Image.offsetMask
        if oldOffset != 0 {
            let table = try loadL2(at: oldOffset, l1Index: l1Index)
            if entry & QCOW2Image.copiedFlag != 0 { return (table, oldOffset) }
            if try refcount(ofCluster: oldOffset >> UInt64(clusterBits)) == 1 {
                setL1(l1Index, oldOffset | QCOW2Image.copiedFlag)
                return (table, oldOffset)
            }
        }
        let newOffset = try allocateClusters(1)
        metadataClusters.insert(newOffset >> UInt64(clusterBits))
        let copy = MetadataTable(oldOffset != 0 ? try loadL2(at: oldOffset, l1Index: l1Index).data : StorageBytes(count: clusterSize))
        // The copy takes over the entries (and their data clusters) of the table it replaces.
        scannedL2.remove(oldOffset)
        scannedL2.insert(newOffset)
        l2Cache.insert(copy, at: newOffset)
        l2Cache.markDirty(newOffset, copy)
        if oldOffset != 0 { pendingFrees.append(oldOffset >> UInt64(clusterBits)) }
        setL1(l1Index, newOffset | QCOW2Image.copiedFlag)
        return (copy, newOffset)
    }

    private func setL1(_ index: Int, _ value: UInt64) {
        l1[index] = value
        l1Dirty = l1Dirty.map { min($0.lowerBound, index)..<max($0.upperBound, index + 1) } ?? index..<(index + 1)
    }

    private func inflate(offset: UInt64, sectors: Int, guest: UInt64) throws(StorageError) -> [UInt8] {
        if let last = lastInflated, last.offset == offset { return last.data }
        let compressedSize = sectors * 512 - Int(offset & 511)
        let input = try file.read(at: offset, count: compressedSize)
        var output = [UInt8](repeating: 0, count: clusterSize)
        let rc = input.withUnsafeBytes { inBytes in
            output.withUnsafeMutableBytes { outBytes in
                cz_inflate_raw(inBytes.baseAddress, inBytes.count, outBytes.baseAddress, outBytes.count)
            }
        }
        guard rc == 0 else {
            throw file.error("compressed cluster for guest offset \(storageHex(guest)) at \(storageHex(offset)) is corrupt")
        }
        lastInflated = (offset, output)
        return output
    }

    // MARK: - Resize

    public func resize(to newSize: UInt64) throws(StorageError) {
        try checkResize(to: newSize)
        let perL1Entry = UInt64(1) << UInt64(clusterBits + l2Bits)
        let needed = newSize / perL1Entry + (newSize % perL1Entry == 0 ? 0 : 1)
        guard needed <= UInt64(QCOW2Header.maxL1Bytes / 8) else {
            throw file.error("\(newSize) bytes is too large for \(clusterSize)-byte clusters (at most \(UInt64(QCOW2Header.maxL1Bytes / 8) * perL1Entry))")
        }
        if needed > UInt64(l1.count) {
            let oldClusters = (l1.count * 8 + clusterSize - 1) / clusterSize
            let newClusters = (Int(needed) * 8 + clusterSize - 1) / clusterSize
            let newOffset = try allocateClusters(newClusters)
            for cluster in 0..<UInt64(newClusters) { metadataClusters.insert((newOffset >> UInt64(clusterBits)) + cluster) }
            if l1Moved == nil { l1Moved = (l1Offset, l1.count == 0 ? 0 : oldClusters) }
            l1 += [UInt64](repeating: 0, count: Int(needed) - l1.count)
            l1Offset = newOffset
            l1Dirty = nil
        }
        size = newSize
        headerSizeDirty = true
        try writeBack()
    }
}
