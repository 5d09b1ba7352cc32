import CNcurses

/// Placeholder namespace until the terminal layer lands.
public enum TUI {
    public static var ncursesVersion: String { String(cString: curses_version()) }
}
