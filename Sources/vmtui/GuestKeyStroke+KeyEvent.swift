import Engine
import TUI

extension GuestKeyStroke {
    /// The PC key stroke for a terminal key, or nil for keys a PC keyboard has no stroke for.
    init?(terminalKey key: KeyEvent) {
        switch key {
        case .char(let c): self.init(character: c)
        case .ctrl(let c): self.init(character: c, ctrl: true)
        case .alt(let c): self.init(character: c, alt: true)
        case .backTab: self.init(GuestKey.tab, shift: true)
        default:
            guard let guestKey = GuestKeyStroke.keys[key] else { return nil }
            self.init(guestKey)
        }
    }

    /// Terminal keys that are one PC key without modifiers.
    private static let keys: [KeyEvent: GuestKey] = [
        .enter: .enter, .escape: .escape, .tab: .tab, .backspace: .backspace, .delete: .delete, .insert: .insert,
        .up: .up, .down: .down, .left: .left, .right: .right, .home: .home, .end: .end,
        .pageUp: .pageUp, .pageDown: .pageDown,
        .function(1): .f1, .function(2): .f2, .function(3): .f3, .function(4): .f4, .function(5): .f5, .function(6): .f6,
        .function(7): .f7, .function(8): .f8, .function(9): .f9, .function(10): .f10, .function(11): .f11, .function(12): .f12,
    ]

    /// A printable character (as typed on a US keyboard) with Ctrl or Alt held as well.
    private init?(character c: Character, ctrl: Bool = false, alt: Bool = false) {
        guard var stroke = GuestKeyStroke(typing: c) else { return nil }
        stroke.ctrl = stroke.ctrl || ctrl
        stroke.alt = alt
        self = stroke
    }
}
