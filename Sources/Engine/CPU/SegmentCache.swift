/// A segment register's hidden part: what the CPU loaded from the descriptor (or, in real
/// mode, selector*16 with the limit and attributes left alone: "big real mode").
struct SegmentCache {
    var selector: UInt16 = 0
    var base: UInt32 = 0
    /// One past the last usable offset (the limit + 1, G already applied); 0 marks a segment
    /// register loaded with a null selector, which faults on every access.
    var end: UInt64 = 0x1_0000 { didSet { updateWriteEnd() } }
    /// Descriptor bytes 5 and 6: type/S/DPL/P in bits 0-7, AVL/L/D-B/G in bits 12-15.
    var attr: UInt16 = 0 { didSet { updateWriteEnd() } }
    /// `end` for writable data, else 0: a write's fast path makes one compare against this, and
    /// anything past it (the limit, an expand-down segment's rules, a segment that is not
    /// writable data) goes to the checks.
    private(set) var writeEnd: UInt64 = 0

    private mutating func updateWriteEnd() {
        writeEnd = attr & 0x1A == 0x12 ? end : 0
    }

    static let dataRealMode: UInt16 = 0x93
    static let codeRealMode: UInt16 = 0x9B
    static let bigBit: UInt16 = 0x4000

    /// Byte-granular limit (G already applied).
    var limit: UInt32 {
        get { UInt32(truncatingIfNeeded: end &- 1) }
        set { end = UInt64(newValue) + 1 }
    }

    var usable: Bool { end != 0 }

    /// A data segment register after a null selector was loaded in protected mode.
    static func null(_ selector: UInt16) -> SegmentCache {
        var c = SegmentCache(selector: selector, base: 0, limit: 0, attr: 0)
        c.end = 0
        return c
    }

    var is32: Bool { attr & SegmentCache.bigBit != 0 }
    var dpl: Int { Int(attr >> 5) & 3 }
    var present: Bool { attr & 0x80 != 0 }
    var isSystem: Bool { attr & 0x10 == 0 }
    var isCode: Bool { attr & 0x18 == 0x18 }
    var isConformingCode: Bool { isCode && attr & 4 != 0 }

    // The rights a descriptor needs for each use (presence is checked apart: it has its own fault).

    /// SS at `cpl`: writable data, its selector's RPL and its DPL both equal to CPL.
    func fitsStack(cpl: Int) -> Bool {
        !isSystem && !isCode && attr & 2 != 0 && Int(selector & 3) == cpl && dpl == cpl
    }

    /// Accessible from `cpl` through this selector: DPL >= CPL and >= RPL, or conforming code
    /// (also what LAR, LSL, VERR and VERW test).
    func visible(cpl: Int) -> Bool {
        isConformingCode || (dpl >= cpl && dpl >= Int(selector & 3))
    }

    /// DS, ES, FS or GS at `cpl`: visible data or readable code.
    func fitsDataRegister(cpl: Int) -> Bool {
        !isSystem && (!isCode || attr & 2 != 0) && visible(cpl: cpl)
    }

    /// CS for a return or task switch to privilege `rpl`: code, DPL == RPL (conforming: DPL <= RPL).
    func fitsCode(rpl: Int) -> Bool {
        !isSystem && isCode && (isConformingCode ? dpl <= rpl : dpl == rpl)
    }
    var type: Int { Int(attr & 0xF) }

    /// Decodes an 8-byte descriptor given as its low and high dwords.
    init(selector: UInt16, low: UInt32, high: UInt32) {
        self.selector = selector
        base = (low >> 16) | ((high & 0xFF) << 16) | (high & 0xFF00_0000)
        var lim = (low & 0xFFFF) | (high & 0xF_0000)
        if high & 0x80_0000 != 0 { lim = (lim << 12) | 0xFFF }
        end = UInt64(lim) + 1
        attr = UInt16(truncatingIfNeeded: (high >> 8) & 0xF0FF)
        updateWriteEnd()
    }

    init(selector: UInt16 = 0, base: UInt32 = 0, limit: UInt32 = 0xFFFF, attr: UInt16 = 0) {
        self.selector = selector
        self.base = base
        self.end = UInt64(limit) + 1
        self.attr = attr
        updateWriteEnd()
    }
}
