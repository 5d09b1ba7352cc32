/// A segment register's hidden part: what the CPU loaded from the descriptor (or, in real
/// mode, selector*16 with the limit and attributes left alone: "big real mode").
struct SegmentCache {
    var selector: UInt16 = 0
    var base: UInt32 = 0
    /// One past the last usable offset (the limit + 1, G already applied); 0 marks a segment
    /// register loaded with a null selector, which faults on every access.
    var end: UInt64 = 0x1_0000
    /// Descriptor bytes 5 and 6: type/S/DPL/P in bits 0-7, AVL/L/D-B/G in bits 12-15.
    var attr: UInt16 = 0

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
    var type: Int { Int(attr & 0xF) }

    /// Decodes an 8-byte descriptor given as its low and high dwords.
    init(selector: UInt16, low: UInt32, high: UInt32) {
        self.selector = selector
        base = (low >> 16) | ((high & 0xFF) << 16) | (high & 0xFF00_0000)
        var lim = (low & 0xFFFF) | (high & 0xF_0000)
        if high & 0x80_0000 != 0 { lim = (lim << 12) | 0xFFF }
        end = UInt64(lim) + 1
        attr = UInt16(truncatingIfNeeded: (high >> 8) & 0xF0FF)
    }

    init(selector: UInt16 = 0, base: UInt32 = 0, limit: UInt32 = 0xFFFF, attr: UInt16 = 0) {
        self.selector = selector
        self.base = base
        self.end = UInt64(limit) + 1
        self.attr = attr
    }
}
