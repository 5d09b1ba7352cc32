/// A text screen on the wire: the mode, size and cursor, and only the rows whose cells changed
/// since the last update the client got (all rows the first time or when the size changes).
///
/// Encoding: UInt8 mode (0 text, 1 graphics, 2 blank) + 3 UInt32 (columns/rows, or width, height,
/// bpp); UInt16 columns, rows, cursor column, cursor row; bool cursor visible; UInt8 cursor start
/// and end line; bool blink; UInt16 count of rows, each a UInt16 row index and `columns` UInt16 cells.
public struct ScreenUpdate: Equatable, Sendable {
    public var mode: TextScreen.Mode
    public var columns: Int
    public var rows: Int
    public var cursorColumn: Int
    public var cursorRow: Int
    public var cursorVisible: Bool
    public var cursorStartLine: Int
    public var cursorEndLine: Int
    public var blinkEnabled: Bool
    public var changedRows: [(index: Int, cells: [UInt16])]

    /// A screen larger than this is not a VGA text mode.
    static let maxCells = 256 * 256

    /// What turns `old` into `new`; nil when nothing changed. A nil `old` sends every row.
    public static func between(_ old: TextScreen?, _ new: TextScreen) -> ScreenUpdate? {
        if let old, old == new { return nil }
        let sameSize = old.map { $0.columns == new.columns && $0.rows == new.rows } ?? false
        var changed: [(index: Int, cells: [UInt16])] = []
        for row in 0..<new.rows {
            let range = row * new.columns..<(row + 1) * new.columns
            if !sameSize || old!.cells[range] != new.cells[range] { changed.append((row, Array(new.cells[range]))) }
        }
        return ScreenUpdate(mode: new.mode, columns: new.columns, rows: new.rows, cursorColumn: new.cursorColumn,
                            cursorRow: new.cursorRow, cursorVisible: new.cursorVisible, cursorStartLine: new.cursorStartLine,
                            cursorEndLine: new.cursorEndLine, blinkEnabled: new.blinkEnabled, changedRows: changed)
    }

    /// Brings the client's copy up to date.
    public func apply(to screen: inout TextScreen) {
        if screen.columns != columns || screen.rows != rows {
            screen = TextScreen(columns: columns, rows: rows)
        }
        screen.mode = mode
        screen.cursorColumn = cursorColumn
        screen.cursorRow = cursorRow
        screen.cursorVisible = cursorVisible
        screen.cursorStartLine = cursorStartLine
        screen.cursorEndLine = cursorEndLine
        screen.blinkEnabled = blinkEnabled
        for (index, cells) in changedRows {
            screen.cells.replaceSubrange(index * columns..<(index + 1) * columns, with: cells)
        }
    }

    public static func == (a: ScreenUpdate, b: ScreenUpdate) -> Bool {
        a.mode == b.mode && a.columns == b.columns && a.rows == b.rows && a.cursorColumn == b.cursorColumn
            && a.cursorRow == b.cursorRow && a.cursorVisible == b.cursorVisible && a.cursorStartLine == b.cursorStartLine
            && a.cursorEndLine == b.cursorEndLine && a.blinkEnabled == b.blinkEnabled
            && a.changedRows.elementsEqual(b.changedRows) { $0.index == $1.index && $0.cells == $1.cells }
    }

    func encode(into w: inout ControlWriter) {
        switch mode {
        case .text(let c, let r): w.u8(0); w.u32(UInt32(c)); w.u32(UInt32(r)); w.u32(0)
        case .graphics(let width, let height, let bpp): w.u8(1); w.u32(UInt32(width)); w.u32(UInt32(height)); w.u32(UInt32(bpp))
        case .blank: w.u8(2); w.u32(0); w.u32(0); w.u32(0)
        }
        for value in [columns, rows, cursorColumn, cursorRow] { w.u16(UInt16(clamping: value)) }
        w.bool(cursorVisible)
        w.u8(UInt8(clamping: cursorStartLine))
        w.u8(UInt8(clamping: cursorEndLine))
        w.bool(blinkEnabled)
        w.u16(UInt16(changedRows.count))
        for (index, cells) in changedRows {
            w.u16(UInt16(index))
            for cell in cells { w.u16(cell) }
        }
    }

    static func decode(_ r: inout ControlReader) throws -> ScreenUpdate {
        let kind = try r.u8()
        let a = Int(try r.u32()), b = Int(try r.u32()), c = Int(try r.u32())
        let mode: TextScreen.Mode
        switch kind {
        case 0: mode = .text(columns: a, rows: b)
        case 1: mode = .graphics(width: a, height: b, bitsPerPixel: c)
        case 2: mode = .blank
        default: throw ControlProtocolError.malformed("unknown screen mode \(kind)")
        }
        let columns = Int(try r.u16()), rows = Int(try r.u16())
        guard columns >= 1, rows >= 1, columns * rows <= maxCells else {
            throw ControlProtocolError.malformed("a \(columns)x\(rows) screen")
        }
        var update = ScreenUpdate(mode: mode, columns: columns, rows: rows, cursorColumn: Int(try r.u16()),
                                  cursorRow: Int(try r.u16()), cursorVisible: try r.bool(), cursorStartLine: Int(try r.u8()),
                                  cursorEndLine: Int(try r.u8()), blinkEnabled: try r.bool(), changedRows: [])
        let count = Int(try r.u16())
        guard count <= rows else { throw ControlProtocolError.malformed("\(count) rows for a screen of \(rows)") }
        for _ in 0..<count {
            let index = Int(try r.u16())
            guard index < rows else { throw ControlProtocolError.malformed("row \(index) of a screen of \(rows)") }
            update.changedRows.append((index, try (0..<columns).map { _ in try r.u16() }))
        }
        return update
    }
}
