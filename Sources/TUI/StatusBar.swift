/// The bottom bar: key hints ("n New  e Edit ...") or a one-line message that replaces them.
public struct StatusBar {
    public var hints: [(key: String, label: String)]
    public var message: String?
    public var messageIsError = false

    public init(hints: [(key: String, label: String)]) { self.hints = hints }

    public func draw(on canvas: Canvas, x: Int, y: Int, width: Int, styles: ThemeStyles) {
        let base = styles[.statusBar]
        canvas.fill(Rect(x: x, y: y, width: width, height: 1), style: base)
        if let message {
            var style = messageIsError ? styles[.error] : base
            if messageIsError { style.background = base.background; style.bold = true }
            canvas.text(" " + message, x: x, y: y, style: style, maxWidth: width)
            return
        }
        var column = x + 1
        for hint in hints {
            let needed = Canvas.columns(of: hint.key) + Canvas.columns(of: hint.label) + 3
            guard column + needed - 2 <= x + width else { break }
            column += canvas.text(hint.key, x: column, y: y, style: styles.bold(.statusBar))
            column += canvas.text(" " + hint.label + "  ", x: column, y: y, style: base, maxWidth: x + width - column)
        }
    }
}
