#if canImport(Glibc)
import Glibc
#endif

/// A device's DMA that does not lie wholly in guest RAM: the device reports an error to the
/// guest (an error status, a dropped frame, a dead link) instead of touching anything else.
public struct DMAError: Error, Equatable, CustomStringConvertible {
    public let address: UInt64
    public let length: Int
    public let isWrite: Bool

    public var description: String {
        "DMA \(isWrite ? "write to" : "read from") guest-physical 0x\(String(address, radix: 16)) (\(length) bytes) leaves RAM"
    }
}

/// The DMA API for bus-master devices (disk controllers, the NIC): bulk copies between host
/// buffers and guest-physical ranges, 64-bit addresses, the whole range checked first. Only
/// pages that are RAM-backed for the direction qualify (a ROM page is readable, not
/// writable; MMIO and unassigned pages are neither), so a hostile guest's descriptor never
/// aliases into low RAM or reaches a device. A write drops decoded code on the pages it covers.
extension MemoryMap {
    /// Copies guest memory [address, address + buffer.count) into `buffer`.
    public func dmaRead(_ address: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(DMAError) {
        guard buffer.count > 0 else { return }
        try forEachDMAChunk(address, buffer.count, write: false) { host, done, count in
            memcpy(buffer.baseAddress! + done, host, count)
        }
    }

    /// Copies `buffer` into guest memory at `address`.
    public func dmaWrite(_ address: UInt64, from buffer: UnsafeRawBufferPointer) throws(DMAError) {
        guard buffer.count > 0 else { return }
        try forEachDMAChunk(address, buffer.count, write: true) { host, done, count in
            memcpy(host, buffer.baseAddress! + done, count)
        }
    }

    /// Reads one little-endian value (a descriptor field) from guest memory.
    public func dmaRead<T: FixedWidthInteger>(_ address: UInt64, as type: T.Type) throws(DMAError) -> T {
        var value: T = 0
        try withUnsafeMutableBytes(of: &value) { (bytes) throws(DMAError) in try dmaRead(address, into: bytes) }
        return T(littleEndian: value)
    }

    /// Writes one little-endian value (a status or index field) to guest memory.
    public func dmaWrite<T: FixedWidthInteger>(_ address: UInt64, value: T) throws(DMAError) {
        let little = value.littleEndian
        try withUnsafeBytes(of: little) { (bytes) throws(DMAError) in try dmaWrite(address, from: bytes) }
    }

    /// Whether [address, address + length) is RAM-backed for the direction, without copying.
    public func dmaCheck(_ address: UInt64, length: Int, write: Bool) -> Bool {
        guard length > 0 else { return true }
        guard address < 1 << 32, UInt64(length) <= (1 << 32) - address else { return false }
        let first = Int(address >> UInt64(MemoryMap.pageShift))
        let last = Int((address + UInt64(length) - 1) >> UInt64(MemoryMap.pageShift))
        let pages = write ? writePages : readPages
        for page in first...last where pages[page] == nil { return false }
        return true
    }

    /// Checks the whole range, then hands `body` one host pointer per page-bounded chunk.
    private func forEachDMAChunk(_ address: UInt64, _ length: Int, write: Bool,
                                 _ body: (UnsafeMutableRawPointer, Int, Int) -> Void) throws(DMAError) {
        guard dmaCheck(address, length: length, write: write) else {
            throw DMAError(address: address, length: length, isWrite: write)
        }
        let pages = write ? writePages : readPages
        var done = 0
        while done < length {
            let at = address + UInt64(done)
            let page = Int(at >> UInt64(MemoryMap.pageShift))
            let offset = Int(at & UInt64(MemoryMap.pageSize - 1))
            let count = min(length - done, MemoryMap.pageSize - offset)
            body(pages[page]! + offset, done, count)
            if write, isCodePage(UInt32(page)) { codeWriteObserver?.codePageWritten(UInt32(page)) }
            done += count
        }
    }
}
