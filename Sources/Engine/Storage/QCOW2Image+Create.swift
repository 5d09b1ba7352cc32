extension QCOW2Image {
    /// Creates an empty qcow2 image: header, refcount table and one refcount block, then an L1
    /// table sized for `size` (through `resize`, so creation and growth share one code path).
    static func create(path: String, size: UInt64, version: UInt32, clusterBits: Int) throws(StorageError) -> QCOW2Image {
        guard (QCOW2Header.minClusterBits...QCOW2Header.maxClusterBits).contains(clusterBits) else {
            throw StorageError(path: path, problem: "cluster size \(1 << clusterBits) is out of range (512 bytes to 2 MiB, a power of two)")
        }
        guard version == 2 || version == 3 else {
            throw StorageError(path: path, problem: "qcow2 version \(version) cannot be created (2 or 3)")
        }
        let file = try ImageFile.create(path: path)
        let clusterSize = 1 << clusterBits
        var bytes = QCOW2Header.newImage(version: version, clusterBits: clusterBits)
        bytes.bytes += [UInt8](repeating: 0, count: 2 * clusterSize)
        bytes.setBE64(clusterSize, UInt64(2 * clusterSize))
        for cluster in 0..<3 { bytes.bytes[2 * clusterSize + cluster * 2 + 1] = 1 }  // 16-bit refcounts of 1
        try file.write(at: 0, bytes: bytes.bytes)
        try file.sync()
        let image = try QCOW2Image(file: file, backingDepth: 0)
        try image.resize(to: size)
        return image
    }
}
