/// Internal snapshots: vmtui never changes them, but it must know where their metadata lies so
/// that nothing it writes lands there.
extension QCOW2Image {
    /// QEMU's limit on the whole snapshot table.
    static let maxSnapshotTableBytes: UInt64 = 64 << 20

    /// Walks the snapshot table (entries of 40 bytes plus extra data, ID and name, padded to 8)
    /// and records the table and every snapshot's L1 table as metadata no data cluster may overlap.
    func registerSnapshots() throws(StorageError) {
        let start = header.snapshotsOffset
        var end = start
        // The last entry's padding need not be in the file.
        var used = start
        var l1Tables: [(offset: UInt64, entries: Int)] = []
        for index in 0..<header.snapshotCount {
            guard end <= file.length, file.length - end >= 40 else {
                throw file.error("snapshot \(index) of \(header.snapshotCount) lies past the end of the file")
            }
            let entry = StorageBytes(try file.read(at: end, count: 40))
            let sizes = entry.be32(12)
            let length = 40 + UInt64(entry.be32(36)) + UInt64(sizes >> 16) + UInt64(sizes & 0xFFFF)
            used = end + length
            end += (length + 7) & ~7
            guard end - start <= QCOW2Image.maxSnapshotTableBytes else {
                throw file.error("the snapshot table is larger than \(QCOW2Image.maxSnapshotTableBytes >> 20) MiB")
            }
            let entries = Int(entry.be32(8))
            guard entries <= QCOW2Header.maxL1Bytes / 8 else {
                throw file.error("snapshot \(index) has an L1 table of \(entries) entries, more than the limit of \(QCOW2Header.maxL1Bytes / 8)")
            }
            if entries > 0 { l1Tables.append((entry.be64(0), entries)) }
        }
        try addFixedRange(at: start, bytes: Int(used - start), name: "the snapshot table")
        for (index, table) in l1Tables.enumerated() {
            for cluster in 0..<UInt64((table.entries * 8 + clusterSize - 1) / clusterSize) {
                let (offset, overflow) = table.offset.addingReportingOverflow(cluster << UInt64(clusterBits))
                guard !overflow else { throw file.error("the L1 table of snapshot \(index) lies outside the file") }
                try addMetadataCluster(offset, name: "the L1 table of snapshot \(index)")
            }
        }
    }
}
