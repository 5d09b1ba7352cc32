extension DiskImageFile {
    /// Refuses guest accesses past the end of the disk (or writes to a read-only image).
    func checkAccess(at offset: UInt64, count: Int, write: Bool) throws(StorageError) {
        if write && isReadOnly { throw StorageError(path: path, problem: "the image is open read-only") }
        let (end, overflow) = offset.addingReportingOverflow(UInt64(count))
        guard !overflow, end <= size else {
            throw StorageError(path: path, problem: "\(write ? "write" : "read") of \(count) bytes at \(storageHex(offset)) is past the end of the \(size)-byte disk")
        }
    }

    /// Refuses shrinking (it would cut off guest data) and resizing read-only images.
    func checkResize(to newSize: UInt64) throws(StorageError) {
        if isReadOnly { throw StorageError(path: path, problem: "the image is open read-only") }
        guard newSize >= size else {
            throw StorageError(path: path, problem: "shrinking from \(size) to \(newSize) bytes is not supported (it would cut off guest data)")
        }
    }

    /// Splits a guest range at multiples of `unit` (a qcow2 cluster, a VDI block), the pieces
    /// the mapping tables resolve one at a time: `body(guest offset, range in the caller's buffer)`.
    func forEachPiece(at offset: UInt64, count: Int, unit: Int,
                      _ body: (_ guest: UInt64, _ range: Range<Int>) throws(StorageError) -> Void) throws(StorageError) {
        var done = 0
        while done < count {
            let guest = offset + UInt64(done)
            let chunk = min(count - done, unit - Int(guest % UInt64(unit)))
            try body(guest, done..<(done + chunk))
            done += chunk
        }
    }
}
