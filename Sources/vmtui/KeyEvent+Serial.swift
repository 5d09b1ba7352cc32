import TUI

extension KeyEvent {
    /// The bytes a VT100-style terminal sends for this key down a serial line (the COM1 view).
    var serialBytes: [UInt8] {
        let esc: UInt8 = 0x1B
        func csi(_ s: String) -> [UInt8] { [esc, UInt8(ascii: "[")] + Array(s.utf8) }
        switch self {
        case .char(let c): return Array(String(c).utf8)
        case .ctrl(let c): return c.asciiValue.map { [$0 & 0x1F] } ?? []
        case .alt(let c): return [esc] + Array(String(c).utf8)
        case .enter: return [0x0D]
        case .escape: return [esc]
        case .tab: return [0x09]
        case .backTab: return csi("Z")
        case .backspace: return [0x7F]
        case .delete: return csi("3~")
        case .insert: return csi("2~")
        case .up: return csi("A")
        case .down: return csi("B")
        case .right: return csi("C")
        case .left: return csi("D")
        case .home: return csi("H")
        case .end: return csi("F")
        case .pageUp: return csi("5~")
        case .pageDown: return csi("6~")
        case .function(let n):
            let codes = ["OP", "OQ", "OR", "OS", "[15~", "[17~", "[18~", "[19~", "[20~", "[21~", "[23~", "[24~"]
            return (1...12).contains(n) ? [esc] + Array(codes[n - 1].utf8) : []
        case .resize: return []
        }
    }
}
