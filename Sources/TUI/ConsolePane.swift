/// Draws a guest's text screen cell for cell: CP437 glyphs (ASCII stand-ins without UTF-8)
/// and VGA attributes mapped to what the terminal can show.
public struct ConsolePane {
    public var depth: ColorDepth
    public var utf8: Bool

    public init(depth: ColorDepth, utf8: Bool) {
        self.depth = depth
        self.utf8 = utf8
    }

    /// Paints `content` from row `firstRow` on with that row's first cell at (x, y), clipped to
    /// `maxRows` rows and the canvas, and places the terminal cursor where the guest's is.
    public func draw(_ content: some ConsoleContent, on canvas: Canvas, x: Int, y: Int, firstRow: Int = 0, maxRows: Int = .max) {
        let columns = min(content.columns, canvas.width - x)
        let rows = min(content.rows - firstRow, canvas.height - y, maxRows)
        guard columns > 0, rows > 0 else { return }
        for row in 0..<rows {
            for column in 0..<columns {
                let style = VGAPalette.style(attribute: content.attribute(column: column, row: firstRow + row), depth: depth,
                                             blinkEnabled: content.blinkEnabled)
                canvas[x + column, y + row] = Cell(CP437.character(content.character(column: column, row: firstRow + row), utf8: utf8), style)
            }
        }
        let cursorRow = content.cursorRow - firstRow
        if content.cursorVisible, content.cursorColumn < columns, (0..<rows).contains(cursorRow) {
            canvas.cursor = (x + content.cursorColumn, y + cursorRow)
            canvas.cursorBlock = content.cursorIsBlock
        }
    }

    /// The first row to show when only `visibleRows` of `content` fit: the top, or as far down
    /// as keeps the guest's cursor line (a shell prompt) in view.
    public static func firstVisibleRow(_ content: some ConsoleContent, visibleRows: Int) -> Int {
        guard visibleRows < content.rows else { return 0 }
        return min(max(content.cursorRow - visibleRows + 1, 0), content.rows - visibleRows)
    }
}
