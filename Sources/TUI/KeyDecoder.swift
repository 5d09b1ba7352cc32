import CNcurses

/// Turns what `wget_wch` returns into KeyEvents. Lone Esc arrives as soon as ncurses' short
/// ESCDELAY (set by Terminal) passes, so it has no visible delay.
public enum KeyDecoder {
    /// `isKeyCode` is wget_wch's KEY_CODE_YES result; `value` the key code or character.
    public static func decode(isKeyCode: Bool, value: UInt32) -> KeyEvent? {
        if isKeyCode { return keyCode(Int32(bitPattern: value)) }
        switch value {
        case 0x1B: return .escape
        case 0x09: return .tab
        case 0x0A, 0x0D: return .enter
        case 0x08, 0x7F: return .backspace
        case 0x01...0x1A:
            return .ctrl(Character(Unicode.Scalar(value + 0x60)!))
        case 0x1D: return .ctrl("]")
        default:
            guard let scalar = Unicode.Scalar(value), value >= 0x20 else { return nil }
            return .char(Character(scalar))
        }
    }

    static func keyCode(_ code: Int32) -> KeyEvent? {
        switch code {
        case KEY_UP: return .up
        case KEY_DOWN: return .down
        case KEY_LEFT: return .left
        case KEY_RIGHT: return .right
        case KEY_HOME: return .home
        case KEY_END: return .end
        case KEY_PPAGE: return .pageUp
        case KEY_NPAGE: return .pageDown
        case KEY_BACKSPACE: return .backspace
        case KEY_DC: return .delete
        case KEY_IC: return .insert
        case KEY_ENTER: return .enter
        case KEY_BTAB: return .backTab
        case KEY_RESIZE: return .resize
        default:
            for n in 1...12 where code == cn_key_f(Int32(n)) { return .function(n) }
            return nil
        }
    }
}
