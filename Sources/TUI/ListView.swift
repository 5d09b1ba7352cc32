/// A scrolling list with one selected row; the owner supplies each row's text.
public final class ListView {
    public var count: Int { didSet { clamp() } }
    public private(set) var selected = 0
    private var top = 0
    private var visibleRows = 1

    public init(count: Int) { self.count = count }

    public func select(_ index: Int) {
        selected = index
        clamp()
    }

    private func clamp() {
        selected = count == 0 ? 0 : min(max(selected, 0), count - 1)
        if selected < top { top = selected }
        if selected >= top + visibleRows { top = selected - visibleRows + 1 }
        top = max(0, min(top, max(count - visibleRows, 0)))
    }

    /// Moves the selection; returns false for keys a list does not use.
    public func handle(_ key: KeyEvent) -> Bool {
        switch key {
        case .up, .char("k"): select(selected - 1)
        case .down, .char("j"): select(selected + 1)
        case .home: select(0)
        case .end: select(count - 1)
        case .pageUp: select(selected - visibleRows)
        case .pageDown: select(selected + visibleRows)
        default: return false
        }
        return true
    }

    /// Draws the visible rows; when rows are hidden above or below, the top or bottom row ends
    /// in ↑ or ↓ so the user knows the list goes on.
    public func draw(on canvas: Canvas, in rect: Rect, normal: CellStyle, selection: CellStyle,
                     row: (_ index: Int, _ width: Int) -> String) {
        visibleRows = max(rect.height, 1)
        clamp()
        let more = count > visibleRows
        let textWidth = more ? rect.width - 2 : rect.width
        for line in 0..<rect.height {
            let index = top + line
            guard index < count else {
                canvas.fill(Rect(x: rect.x, y: rect.y + line, width: rect.width, height: 1), style: normal)
                continue
            }
            let style = index == selected ? selection : normal
            canvas.line(row(index, textWidth), x: rect.x, y: rect.y + line, width: rect.width, style: style)
            if line == 0, top > 0 { canvas.text("↑", x: rect.maxX - 1, y: rect.y, style: style) }
            if line == rect.height - 1, index < count - 1 { canvas.text("↓", x: rect.maxX - 1, y: rect.y + line, style: style) }
        }
    }
}
