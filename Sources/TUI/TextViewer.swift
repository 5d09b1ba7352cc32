/// A scrollable page of text in a box (the help screen); any closing key returns.
public final class TextViewer: Panel {
    public let title: String
    public let lines: [String]
    private var top = 0
    private var pageHeight = 1

    public init(title: String, lines: [String]) {
        self.title = title
        self.lines = lines
    }

    public func draw(on canvas: Canvas, styles: ThemeStyles) {
        let rect = canvas.bounds.inset(by: 1)
        canvas.fill(rect, style: styles[.dialog])
        canvas.box(rect, style: styles[.dialog], title: title, titleStyle: styles.bold(.dialog))
        let body = rect.inset(by: 1)
        pageHeight = max(body.height - 1, 1)
        top = max(0, min(top, lines.count - pageHeight))
        for row in 0..<pageHeight where top + row < lines.count {
            canvas.text(lines[top + row], x: body.x + 1, y: body.y + row, style: styles[.dialog], maxWidth: body.width - 2)
        }
        let more = lines.count > pageHeight ? "↑↓ scroll  " : ""
        canvas.text("\(more)Esc/q close", x: body.x + 1, y: body.maxY - 1, style: styles.bold(.dialog))
    }

    public func handle(_ key: KeyEvent) -> EventResult {
        switch key {
        case .up: top -= 1
        case .down: top += 1
        case .pageUp: top -= pageHeight
        case .pageDown, .char(" "): top += pageHeight
        case .escape, .char("q"), .enter, .char("?"), .function(1): return .close
        default: return .ignored
        }
        top = max(0, min(top, lines.count - pageHeight))
        return .handled
    }
}
