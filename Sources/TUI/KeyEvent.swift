/// A key press, decoded from ncurses' wide-character input.
public enum KeyEvent: Hashable, Sendable {
    case char(Character)
    case ctrl(Character)
    /// Alt (Meta) with a character: the terminal sends Esc followed by it at once.
    case alt(Character)
    case enter, escape, tab, backTab, backspace, delete, insert
    case up, down, left, right, home, end, pageUp, pageDown
    case function(Int)
    /// The terminal changed size; redraw everything.
    case resize
}
