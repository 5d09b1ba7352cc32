/// One cluster of image metadata (a qcow2 L2 table or refcount block) held in memory.
/// A class so a table can be changed in place while it sits in `MetadataCache`.
final class MetadataTable {
    var data: StorageBytes
    init(_ data: StorageBytes) { self.data = data }
}
