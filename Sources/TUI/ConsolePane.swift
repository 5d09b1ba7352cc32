/// Draws a guest's text screen cell for cell: CP437 glyphs (ASCII stand-ins without UTF-8)
/// and VGA attributes mapped to what the terminal can show.
public struct ConsolePane {
    public var depth: ColorDepth
    public var utf8: Bool

    public init(depth: ColorDepth, utf8: Bool) {
        self.depth = depth
        self.utf8 = utf8
    }

    /// Paints `content` with its top-left cell at (x, y), clipped to the canvas, and places
    /// the terminal cursor where the guest's is.
    public func draw(_ content: some ConsoleContent, on canvas: Canvas, x: Int, y: Int) {
        let columns = min(content.columns, canvas.width - x)
        let rows = min(content.rows, canvas.height - y)
        guard columns > 0, rows > 0 else { return }
        for row in 0..<rows {
            for column in 0..<columns {
                let style = VGAPalette.style(attribute: content.attribute(column: column, row: row), depth: depth,
                                             blinkEnabled: content.blinkEnabled)
                canvas[x + column, y + row] = Cell(CP437.character(content.character(column: column, row: row), utf8: utf8), style)
            }
        }
        if content.cursorVisible, content.cursorColumn < columns, content.cursorRow < rows {
            canvas.cursor = (x + content.cursorColumn, y + content.cursorRow)
            canvas.cursorBlock = content.cursorIsBlock
        }
    }
}
