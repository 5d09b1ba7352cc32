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

    public func draw(on canvas: Canvas, in rect: Rect, normal: CellStyle, selection: CellStyle,
                     row: (_ index: Int, _ width: Int) -> String) {
        visibleRows = max(rect.height, 1)
        clamp()
        for line in 0..<rect.height {
            let index = top + line
            guard index < count else {
                canvas.fill(Rect(x: rect.x, y: rect.y + line, width: rect.width, height: 1), style: normal)
                continue
            }
            canvas.line(row(index, rect.width), x: rect.x, y: rect.y + line, width: rect.width,
                        style: index == selected ? selection : normal)
        }
    }
}
