/// A scrollable page of text in a box (the help screen); any closing key returns.
public final class TextViewer: Panel {
    public let title: String
    public let lines: [String]
    private var top = 0
    private var pageHeight = 1
    /// `lines` wrapped to the last width drawn, continuation lines indented under their text.
    private var wrapped: [String] = []

    public init(title: String, lines: [String]) {
        self.title = title
        self.lines = lines
    }

    public func draw(on canvas: Canvas, styles: ThemeStyles) {
        let rect = canvas.bounds.inset(by: 1)
        canvas.fill(rect, style: styles[.dialog])
        canvas.box(rect, style: styles[.dialog], title: title, titleStyle: styles.bold(.dialog))
        let body = rect.inset(by: 1)
        wrapped = TextViewer.wrap(lines, width: body.width - 2)
        pageHeight = max(body.height - 1, 1)
        top = max(0, min(top, wrapped.count - pageHeight))
        for row in 0..<pageHeight where top + row < wrapped.count {
            canvas.text(wrapped[top + row], x: body.x + 1, y: body.y + row, style: styles[.dialog], maxWidth: body.width - 2)
        }
        let more = wrapped.count > pageHeight ? "↑↓ PgUp PgDn scroll (\(min(top + pageHeight, wrapped.count)) of \(wrapped.count) lines)  " : ""
        canvas.text("\(more)Esc/q close", x: body.x + 1, y: body.maxY - 1, style: styles.bold(.dialog), maxWidth: body.width - 2)
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
        top = max(0, min(top, wrapped.count - pageHeight))
        return .handled
    }

    /// Lines longer than `width` continue on the next rows, indented two past their own indent.
    static func wrap(_ lines: [String], width: Int) -> [String] {
        lines.flatMap { line -> [String] in
            let indent = line.prefix { $0 == " " }.count
            let parts = TextWrap.lines(String(line.dropFirst(indent)), width: max(width - indent - 2, 1))
            return parts.enumerated().map { i, part in String(repeating: " ", count: indent + (i == 0 ? 0 : 2)) + part }
        }
    }
}
