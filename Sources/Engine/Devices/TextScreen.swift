/// What the display shows, as a value the TUI can draw without knowing the VGA device:
/// a grid of CP437 characters with VGA attribute bytes, the cursor, and the mode.
public struct TextScreen: Equatable, Sendable {
    public enum Mode: Equatable, Sendable {
        case text(columns: Int, rows: Int)
        /// The guest switched to a graphics mode; the console shows a notice.
        case graphics(width: Int, height: Int, bitsPerPixel: Int)
        /// Display disabled or not programmed yet.
        case blank
    }

    public var mode: Mode
    public var columns: Int
    public var rows: Int
    /// `columns * rows` cells: low byte the CP437 code, high byte the attribute
    /// (low nibble foreground, bits 6:4 background, bit 7 blink or bright background).
    public var cells: [UInt16]
    public var cursorColumn: Int
    public var cursorRow: Int
    public var cursorVisible: Bool
    /// Cursor scan lines (start, end) within the character cell, for its shape.
    public var cursorStartLine: Int
    public var cursorEndLine: Int
    /// Attribute bit 7 means blink (true) or a bright background (false).
    public var blinkEnabled: Bool

    public init(columns: Int = 80, rows: Int = 25) {
        mode = .text(columns: columns, rows: rows)
        self.columns = columns
        self.rows = rows
        cells = Array(repeating: 0x0720, count: columns * rows)
        cursorColumn = 0
        cursorRow = 0
        cursorVisible = true
        cursorStartLine = 13
        cursorEndLine = 14
        blinkEnabled = true
    }

    public func character(column: Int, row: Int) -> UInt8 { UInt8(cells[row * columns + column] & 0xFF) }
    public func attribute(column: Int, row: Int) -> UInt8 { UInt8(cells[row * columns + column] >> 8) }

    /// One row as text; CP437 bytes outside printable ASCII become `.` (for logs and tests;
    /// the TUI maps the full CP437 set).
    public func line(_ row: Int) -> String {
        var s = ""
        s.reserveCapacity(columns)
        for c in 0..<columns {
            let b = character(column: c, row: row)
            s.unicodeScalars.append(b >= 0x20 && b < 0x7F ? Unicode.Scalar(b) : (b == 0 ? " " : "."))
        }
        return s
    }

    /// The whole screen as plain text, one line per row, trailing spaces kept.
    public var plainText: String { (0..<rows).map(line).joined(separator: "\n") }

    public func contains(_ text: String) -> Bool {
        (0..<rows).contains { line($0).contains(text) }
    }
}
