/// A modal question: a message, an optional text entry, and buttons. ←→/Tab pick a button
/// (Shift-Tab when the entry completes with Tab), Enter presses it, Esc presses the last one (Cancel). `onChoose` gets the button index and
/// the text and decides what happens (close, or stay open with `error` set).
public final class Dialog: Panel {
    public var title: String
    public var message: String
    public var buttons: [String]
    public var field: TextField?
    public var error: String?
    public var selected = 0
    public var role: ThemeRole
    private let onChoose: (Dialog, Int, String) -> EventResult

    public init(title: String, message: String, buttons: [String] = ["OK"], field: TextField? = nil,
                role: ThemeRole = .dialog, onChoose: @escaping (Dialog, Int, String) -> EventResult = { _, _, _ in .close }) {
        self.title = title
        self.message = message
        self.buttons = buttons
        self.field = field
        self.role = role
        self.onChoose = onChoose
    }

    public func draw(on canvas: Canvas, styles: ThemeStyles) {
        let width = min(66, canvas.width - 4)
        let inner = width - 4
        let lines = TextWrap.lines(message, width: inner)
        let errorLines = error.map { TextWrap.lines($0, width: inner) } ?? []
        let fieldRows = field.map { $0.height(width: inner) + 1 } ?? 0
        let height = lines.count + errorLines.count + fieldRows + 5
        let rect = canvas.bounds.centered(width: width, height: height)
        canvas.fill(rect, style: styles[role])
        canvas.box(rect, style: styles[role], title: title, titleStyle: styles.bold(role))
        var y = rect.y + 2
        for line in lines { canvas.text(line, x: rect.x + 2, y: y, style: styles[role]); y += 1 }
        if let field {
            y += 1
            field.draw(on: canvas, in: Rect(x: rect.x + 2, y: y, width: inner, height: field.height(width: inner)),
                       focused: true, styles: styles, base: role)
            y += field.height(width: inner)
        }
        var errorStyle = styles.bold(.error)
        errorStyle.background = styles[role].background
        for line in errorLines { canvas.text(line, x: rect.x + 2, y: y, style: errorStyle); y += 1 }
        ButtonRow.draw(buttons, focused: selected, on: canvas, rightEdge: rect.maxX - 2, y: rect.maxY - 2, styles: styles, base: role)
    }

    public func handle(_ key: KeyEvent) -> EventResult {
        switch key {
        case .escape: return onChoose(self, buttons.count - 1, field?.text ?? "")
        case .enter: return onChoose(self, selected, field?.text ?? "")
        case .tab where field?.completer != nil:
            // Tab completes the file name, as in the wizard; it never moves to another button.
            _ = field?.handle(.tab)
        case .tab: selected = (selected + 1) % buttons.count
        case .right where field == nil: selected = (selected + 1) % buttons.count
        case .backTab: selected = (selected + buttons.count - 1) % buttons.count
        case .left where field == nil: selected = (selected + buttons.count - 1) % buttons.count
        default:
            if let field, field.handle(key) { error = nil; return .handled }
            return .ignored
        }
        return .handled
    }
}
