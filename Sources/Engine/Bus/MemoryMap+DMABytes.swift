/// Array forms of the DMA API for descriptors, tables and replies (Array's buffer closures
/// rethrow untyped errors, so the typed error is carried out through a Result).
extension MemoryMap {
    /// `count` bytes of guest memory at `address`.
    public func dmaReadBytes(_ address: UInt64, count: Int) throws(DMAError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        try bytes.withUnsafeMutableBytes { buffer in
            Result { () throws(DMAError) in try dmaRead(address, into: buffer) }
        }.get()
        return bytes
    }

    /// Copies `bytes` into guest memory at `address`.
    public func dmaWriteBytes(_ address: UInt64, _ bytes: [UInt8]) throws(DMAError) {
        try bytes.withUnsafeBytes { buffer in
            Result { () throws(DMAError) in try dmaWrite(address, from: buffer) }
        }.get()
    }
}
