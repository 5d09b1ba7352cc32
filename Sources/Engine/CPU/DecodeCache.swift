/// Decoded instructions, direct-mapped by guest physical address and tagged with it and the
/// mode bits that change decoding (`code32`), shared by the CPUs of one `MemoryMap` (they run
/// in turns on one thread).
///
/// A page holding decoded code has its bit in `MemoryMap.codePages`: CPU stores to it take the
/// slow path (no fast write pointer in a TLB), which, like MemoryMap's DMA path, calls
/// `codePageWritten`, which drops the page's instructions and its bit. Remaps and A20 flush
/// everything (`Interpreter.syncMappings`); CR3 changes need nothing, as tags are physical.
final class DecodeCache: CodeWriteObserver {
    static let entries = 1 << 16
    static let empty: UInt64 = .max
    /// Slots after `scratch`, never written (so never matching a tag): an instruction's
    /// successor slot (`Interpreter.following`, `runBlock`) is at most 15 past the last slot or scratch.
    static let padding = 16

    let slots: UnsafeMutablePointer<DecodedInstruction>
    /// Where an instruction that is not cached (it crosses a page, or its page is not RAM) is
    /// decoded to run once; after the last slot.
    let scratch: UnsafeMutablePointer<DecodedInstruction>
    let memory: MemoryMap
    /// Bumped whenever a page becomes a code page, so that every CPU drops the fast write
    /// pointers it may hold to it (`Interpreter.syncMappings`).
    private(set) var codeEpoch: UInt64 = 0

    private init(memory: MemoryMap) {
        self.memory = memory
        slots = .allocate(capacity: DecodeCache.entries + 1 + DecodeCache.padding)
        slots.initialize(repeating: DecodedInstruction(), count: DecodeCache.entries + 1 + DecodeCache.padding)
        scratch = slots + DecodeCache.entries
    }

    deinit { slots.deallocate() }

    /// The cache of `memory`'s CPUs (created by the first one), emptied: whatever wrote guest
    /// memory before this CPU existed wrote it without telling the cache.
    static func attached(to memory: MemoryMap) -> DecodeCache {
        let cache = memory.codeWriteObserver as? DecodeCache ?? DecodeCache(memory: memory)
        memory.codeWriteObserver = cache
        cache.flush()
        return cache
    }

    /// In the key of an instruction decoded in a fetch window that the CS limit ends before its
    /// page's end: such instructions are never linked (`DecodedInstruction.linkStride`), and
    /// those of whole-page windows, which are, never run in such a window.
    static let cutWindow: UInt64 = 1 << 33

    @inline(__always)
    static func key(_ phys: UInt32, code32: Bool, cut: Bool) -> UInt64 {
        UInt64(phys) | (code32 ? 1 << 32 : 0) | (cut ? cutWindow : 0)
    }

    @inline(__always)
    func slot(_ phys: UInt32) -> UnsafeMutablePointer<DecodedInstruction> {
        slots + (Int(phys) & (DecodeCache.entries - 1))
    }

    /// Stores `d` (whose tag is set) and marks its page as holding code; returns whether the page
    /// just became a code page, so the caller drops its own fast write pointers. The slots up
    /// to 15 before may be linked to what this slot held: their links go.
    func insert(_ d: DecodedInstruction) -> Bool {
        let phys = UInt32(truncatingIfNeeded: d.tag)
        slot(phys).pointee = d
        for back in 1...15 { slot(phys &- UInt32(back)).pointee.linkStride = 0 }
        let page = phys >> 12
        if memory.isCodePage(page) { return false }
        memory.codePages[Int(page >> 6)] |= 1 << UInt64(page & 63)
        codeEpoch &+= 1
        return true
    }

    func codePageWritten(_ page: UInt32) {
        memory.codePages[Int(page >> 6)] &= ~(1 << UInt64(page & 63))
        // The page's 4096 addresses fill one run of slots; only the slots tagged with it go.
        let first = slot(page << 12)
        for i in 0..<4096 where UInt32(truncatingIfNeeded: first[i].tag) >> 12 == page {
            first[i].tag = DecodeCache.empty
            first[i].linkStride = 0 // the instruction running now may be one of them
        }
    }

    func flush() {
        for i in 0..<DecodeCache.entries {
            slots[i].tag = DecodeCache.empty
            slots[i].linkStride = 0
        }
        memory.codePages.update(repeating: 0, count: MemoryMap.pageCount / 64)
    }
}
