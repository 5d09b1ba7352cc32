/// Refcounts, cluster allocation and the ordered write-back of metadata.
extension QCOW2Image {
    /// Clusters described by one refcount block.
    private var clustersPerRefblock: UInt64 { UInt64(clusterSize * 8 / refcountBits) }

    func refcount(ofCluster cluster: UInt64) throws(StorageError) -> UInt64 {
        guard let (table, _) = try refblock(forCluster: cluster, create: false) else { return 0 }
        return refcountEntry(table, Int(cluster % clustersPerRefblock))
    }

    private func refcountEntry(_ table: MetadataTable, _ index: Int) -> UInt64 {
        switch refcountBits {
        case 64: return table.data.be64(index * 8)
        case 32: return UInt64(table.data.be32(index * 4))
        case 16: return UInt64(table.data.bytes[index * 2]) << 8 | UInt64(table.data.bytes[index * 2 + 1])
        case 8: return UInt64(table.data.bytes[index])
        default:
            // Sub-byte refcounts are packed from the least significant bit up.
            let perByte = 8 / refcountBits
            let shift = (index % perByte) * refcountBits
            return UInt64(table.data.bytes[index / perByte] >> shift) & refcountMax
        }
    }

    private func setRefcountEntry(_ table: MetadataTable, _ index: Int, _ value: UInt64) {
        switch refcountBits {
        case 64: table.data.setBE64(index * 8, value)
        case 32: table.data.setBE32(index * 4, UInt32(value))
        case 16:
            table.data.bytes[index * 2] = UInt8(value >> 8)
            table.data.bytes[index * 2 + 1] = UInt8(value & 0xFF)
        case 8: table.data.bytes[index] = UInt8(value)
        default:
            let perByte = 8 / refcountBits
            let shift = (index % perByte) * refcountBits
            let mask = UInt8(refcountMax) << shift
            let byte = table.data.bytes[index / perByte]
            table.data.bytes[index / perByte] = (byte & ~mask) | (UInt8(value) << shift)
        }
    }

    /// The refcount block describing `cluster`; with `create`, a missing block is allocated (at the
    /// end of the file, counting itself) and the refcount table grows in memory if needed.
    private func refblock(forCluster cluster: UInt64, create: Bool) throws(StorageError) -> (MetadataTable, UInt64)? {
        let blockIndex = cluster / clustersPerRefblock
        if blockIndex >= UInt64(refcountTable.count) {
            guard create else { return nil }
            guard blockIndex < UInt64(QCOW2Header.maxRefcountTableBytes / 8) else {
                throw file.error("the image would outgrow the largest refcount table qcow2 allows")
            }
            refcountTable += [UInt64](repeating: 0, count: Int(blockIndex) + 1 - refcountTable.count)
        }
        let index = Int(blockIndex)
        let offset = refcountTable[index] & ~UInt64(clusterSize - 1)
        if offset != 0 { return (try loadTable(at: offset, cache: refblockCache), offset) }
        guard create else { return nil }
        var newCluster = nextFreeCluster
        while try refcount(ofCluster: newCluster) != 0 {
            newCluster += 1
            try checkSkipped(newCluster)
        }
        nextFreeCluster = newCluster + 1
        let newOffset = newCluster << UInt64(clusterBits)
        let table = MetadataTable(StorageBytes(count: clusterSize))
        refblockCache.insert(table, at: newOffset)
        refblockCache.markDirty(newOffset, table)
        metadataClusters.insert(newCluster)
        refcountTable[index] = newOffset
        markRefcountTableDirty(index)
        try adjustRefcount(ofCluster: newCluster, by: 1)
        return (table, newOffset)
    }

    private func markRefcountTableDirty(_ index: Int) {
        refcountTableDirty = refcountTableDirty.map { min($0.lowerBound, index)..<max($0.upperBound, index + 1) } ?? index..<(index + 1)
    }

    func adjustRefcount(ofCluster cluster: UInt64, by delta: Int) throws(StorageError) {
        guard let (table, offset) = try refblock(forCluster: cluster, create: delta > 0) else {
            throw file.error("refcount of cluster \(storageHex(cluster << UInt64(clusterBits))) is already zero (the image is corrupt; qemu-img check -r all repairs it)")
        }
        let index = Int(cluster % clustersPerRefblock)
        let old = refcountEntry(table, index)
        guard delta > 0 ? old < refcountMax : old > 0 else {
            throw file.error("refcount of cluster \(storageHex(cluster << UInt64(clusterBits))) would \(delta > 0 ? "overflow" : "drop below zero") (the image is corrupt; qemu-img check -r all repairs it)")
        }
        setRefcountEntry(table, index, delta > 0 ? old + 1 : old - 1)
        refblockCache.markDirty(offset, table)
    }

    /// Appends `count` contiguous clusters with refcount 1 and returns the byte offset of the first.
    /// Clusters past the end of the file that already have a refcount (left by a crash after the
    /// refcounts were written but before the data) are stepped over, never handed out twice.
    func allocateClusters(_ count: Int) throws(StorageError) -> UInt64 {
        var first = nextFreeCluster
        var checked = 0
        while checked < count {
            if try refcount(ofCluster: first + UInt64(checked)) != 0 {
                first += UInt64(checked) + 1
                checked = 0
                try checkSkipped(first)
            } else {
                checked += 1
            }
        }
        nextFreeCluster = first + UInt64(count)
        for cluster in first..<(first + UInt64(count)) { try adjustRefcount(ofCluster: cluster, by: 1) }
        return first << UInt64(clusterBits)
    }

    /// A crash leaves at most a few refcounted clusters past the end of the file; millions mean
    /// corrupt refcounts, and searching past them would take forever.
    private func checkSkipped(_ cluster: UInt64) throws(StorageError) {
        guard cluster - nextFreeCluster < 1 << 20 else {
            throw file.error("refcounts past the end of the file are corrupt (qemu-img check -r all repairs them)")
        }
    }

    /// Gives the grown refcount table a new home big enough for itself and some headroom.
    private func relocateRefcountTable() throws(StorageError) {
        while refcountTable.count * 8 > refcountTableClusters * clusterSize {
            let clusters = (refcountTable.count * 16 + clusterSize - 1) / clusterSize
            guard clusters * clusterSize <= QCOW2Header.maxRefcountTableBytes else {
                throw file.error("the image would outgrow the largest refcount table qcow2 allows")
            }
            let offset = try allocateClusters(clusters)
            if refcountTableMoved == nil { refcountTableMoved = (refcountTableOffset, refcountTableClusters) }
            for cluster in 0..<UInt64(clusters) { metadataClusters.insert((offset >> UInt64(clusterBits)) + cluster) }
            refcountTableOffset = offset
            refcountTableClusters = clusters
        }
    }

    private func writeTables(_ cache: MetadataCache) throws(StorageError) -> Bool {
        let dirty = cache.dirtyTables()
        for (offset, table) in dirty { try file.write(at: offset, bytes: table.data.bytes) }
        cache.markAllClean()
        return !dirty.isEmpty
    }

    private func tableBytes(_ entries: ArraySlice<UInt64>, padTo length: Int) -> [UInt8] {
        var bytes = StorageBytes(count: max(length, entries.count * 8))
        for (i, entry) in entries.enumerated() { bytes.setBE64(i * 8, entry) }
        return bytes.bytes
    }

    /// Writes every metadata change to the file, in an order where each stage only points at
    /// what earlier stages made durable: data and refcount blocks, refcount table, L2 tables,
    /// L1 table and header, then the refcount drops for clusters no longer referenced.
    func writeBack() throws(StorageError) {
        guard !isReadOnly else { return }
        try relocateRefcountTable()
        _ = try writeTables(refblockCache)
        try file.sync()  // guest data and refcounts before anything points at them

        if let moved = refcountTableMoved {
            let bytes = tableBytes(refcountTable[...], padTo: refcountTableClusters * clusterSize)
            try file.write(at: refcountTableOffset, bytes: bytes)
            try file.sync()
            var field = StorageBytes(count: 12)
            field.setBE64(0, refcountTableOffset)
            field.setBE32(8, UInt32(refcountTableClusters))
            try file.write(at: UInt64(QCOW2Header.Field.refcountTableOffset), bytes: field.bytes)
            try file.sync()
            for cluster in 0..<UInt64(moved.oldClusters) { pendingFrees.append((moved.oldOffset >> UInt64(clusterBits)) + cluster) }
            refcountTableMoved = nil
            refcountTableDirty = nil
        } else if let dirty = refcountTableDirty {
            try file.write(at: refcountTableOffset + UInt64(dirty.lowerBound * 8), bytes: tableBytes(refcountTable[dirty], padTo: 0))
            try file.sync()
            refcountTableDirty = nil
        }

        if try writeTables(l2Cache) { try file.sync() }

        if let moved = l1Moved {
            let clusters = (l1.count * 8 + clusterSize - 1) / clusterSize
            try file.write(at: l1Offset, bytes: tableBytes(l1[...], padTo: clusters * clusterSize))
            try file.sync()
            try writeSizeFields()
            if moved.oldOffset != 0 {
                for cluster in 0..<UInt64(moved.oldClusters) { pendingFrees.append((moved.oldOffset >> UInt64(clusterBits)) + cluster) }
            }
            l1Moved = nil
            l1Dirty = nil
        } else {
            if let dirty = l1Dirty {
                try file.write(at: l1Offset + UInt64(dirty.lowerBound * 8), bytes: tableBytes(l1[dirty], padTo: 0))
                try file.sync()
                l1Dirty = nil
            }
            if headerSizeDirty { try writeSizeFields() }
        }

        if !pendingFrees.isEmpty {
            let frees = pendingFrees
            pendingFrees = []
            for cluster in frees { try adjustRefcount(ofCluster: cluster, by: -1) }
            _ = try writeTables(refblockCache)
            try file.sync()
            // Clusters nothing references any more give their host space back.
            for cluster in Set(frees) {
                guard try refcount(ofCluster: cluster) == 0 else { continue }
                try file.punchHole(at: cluster << UInt64(clusterBits), count: UInt64(clusterSize))
            }
        }
    }

    /// Virtual size, L1 size and L1 offset sit next to each other: one small write updates them.
    private func writeSizeFields() throws(StorageError) {
        var field = StorageBytes(count: 24)
        field.setBE64(0, size)
        field.setBE32(QCOW2Header.Field.l1Size - QCOW2Header.Field.size, UInt32(l1.count))
        field.setBE64(QCOW2Header.Field.l1Offset - QCOW2Header.Field.size, l1Offset)
        try file.write(at: UInt64(QCOW2Header.Field.size), bytes: field.bytes)
        try file.sync()
        headerSizeDirty = false
    }
}
