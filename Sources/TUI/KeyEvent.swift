/// A key press, decoded from ncurses' wide-character input.
public enum KeyEvent: Equatable, Sendable {
    case char(Character)
    case ctrl(Character)
    case enter, escape, tab, backTab, backspace, delete
    case up, down, left, right, home, end, pageUp, pageDown
    case function(Int)
    /// The terminal changed size; redraw everything.
    case resize
}
