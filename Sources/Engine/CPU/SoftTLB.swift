/// A direct-mapped cache from linear page to host pointer, one way for reads and one for
/// writes. Filled from the page tables and MemoryMap; emptied when either changes.
final class SoftTLB {
    static let entries = 1024
    static let invalid: UInt32 = .max

    let readTag: UnsafeMutablePointer<UInt32>
    let writeTag: UnsafeMutablePointer<UInt32>
    let readPtr: UnsafeMutablePointer<UnsafeMutableRawPointer?>
    let writePtr: UnsafeMutablePointer<UnsafeMutableRawPointer?>
    /// A page walk met a 2 or 4 MiB page since the last full flush: its 4 KiB pieces may sit
    /// anywhere in the TLB, so INVLPG must drop the whole surrounding region.
    var largePages = false

    init() {
        readTag = .allocate(capacity: SoftTLB.entries)
        writeTag = .allocate(capacity: SoftTLB.entries)
        readPtr = .allocate(capacity: SoftTLB.entries)
        writePtr = .allocate(capacity: SoftTLB.entries)
        readPtr.initialize(repeating: nil, count: SoftTLB.entries)
        writePtr.initialize(repeating: nil, count: SoftTLB.entries)
        readTag.initialize(repeating: SoftTLB.invalid, count: SoftTLB.entries)
        writeTag.initialize(repeating: SoftTLB.invalid, count: SoftTLB.entries)
    }

    deinit {
        readTag.deallocate()
        writeTag.deallocate()
        readPtr.deallocate()
        writePtr.deallocate()
    }

    func flush() {
        readTag.update(repeating: SoftTLB.invalid, count: SoftTLB.entries)
        writeTag.update(repeating: SoftTLB.invalid, count: SoftTLB.entries)
        largePages = false
    }

    /// Drops the write side: a page just became a code page, whose stores must take the slow path.
    func flushWrites() {
        writeTag.update(repeating: SoftTLB.invalid, count: SoftTLB.entries)
    }

    /// Drops the one entry that can hold linear page `page` (mapped by a 4 KiB page).
    func flush(page: UInt32) {
        let i = Int(page) & (SoftTLB.entries - 1)
        if readTag[i] == page { readTag[i] = SoftTLB.invalid }
        if writeTag[i] == page { writeTag[i] = SoftTLB.invalid }
    }

    /// Drops every page of the 4 MiB region `region` (linear address >> 22).
    func flush(region: UInt32) {
        for i in 0..<SoftTLB.entries {
            if readTag[i] >> 10 == region { readTag[i] = SoftTLB.invalid }
            if writeTag[i] >> 10 == region { writeTag[i] = SoftTLB.invalid }
        }
    }
}
