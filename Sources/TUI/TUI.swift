import CNcurses

/// Facts about the linked terminal library.
public enum TUI {
    public static var ncursesVersion: String { String(cString: curses_version()) }
}
