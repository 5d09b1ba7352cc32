/// Metadata tables keyed by their offset in the image file. Changed tables stay dirty in memory
/// until the image writes them back in a crash-safe order (see `QCOW2Image.writeBack`); only clean
/// tables are evicted, so the owner must write back once `needsWriteBack` says so.
final class MetadataCache {
    private var tables: [UInt64: MetadataTable] = [:]
    private var dirty: Set<UInt64> = []
    /// Number of tables kept before clean ones are evicted.
    let capacity: Int

    init(capacity: Int) { self.capacity = max(8, capacity) }

    func table(at offset: UInt64) -> MetadataTable? { tables[offset] }

    func insert(_ table: MetadataTable, at offset: UInt64) {
        if tables.count >= capacity, let victim = tables.keys.first(where: { !dirty.contains($0) }) {
            tables[victim] = nil
        }
        tables[offset] = table
    }

    /// Records a change; the table goes back into the cache in case it was evicted while clean.
    func markDirty(_ offset: UInt64, _ table: MetadataTable) {
        tables[offset] = table
        dirty.insert(offset)
    }

    var needsWriteBack: Bool { dirty.count >= capacity / 2 }

    /// Dirty tables in file order.
    func dirtyTables() -> [(offset: UInt64, table: MetadataTable)] {
        dirty.sorted().compactMap { offset in tables[offset].map { (offset, $0) } }
    }

    /// Called once the dirty tables are written.
    func markAllClean() { dirty.removeAll() }
}
