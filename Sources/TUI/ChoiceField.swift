/// Radio buttons: vertical (↑↓ change the answer, details beside each) or on one line (←→).
public final class ChoiceField: FormField {
    public var label: String
    public var options: [ChoiceOption]
    public var selected: Int
    public var horizontal: Bool
    public var isHidden = false
    public var isFocusable: Bool { true }

    public init(label: String, options: [ChoiceOption], selected: Int = 0, horizontal: Bool = false) {
        self.label = label
        self.options = options
        self.selected = min(max(selected, 0), max(options.count - 1, 0))
        self.horizontal = horizontal
    }

    public func height(width: Int) -> Int { horizontal ? 1 : options.count }

    public func draw(on canvas: Canvas, in rect: Rect, focused: Bool, styles: ThemeStyles, base: ThemeRole) {
        let normal = styles[base]
        let titleWidth = options.map { Canvas.columns(of: $0.title) }.max() ?? 0
        var column = rect.x
        for (i, option) in options.enumerated() {
            let mark = i == selected ? "(•) " : "( ) "
            let style = focused && i == selected ? styles[.selection] : normal
            if horizontal {
                column += canvas.text(mark + option.title, x: column, y: rect.y, style: style, maxWidth: rect.maxX - column)
                column += canvas.text("  ", x: column, y: rect.y, style: normal, maxWidth: rect.maxX - column)
            } else if i < rect.height {
                let used = canvas.text(mark + option.title.padding(toLength: titleWidth, withPad: " ", startingAt: 0),
                                       x: rect.x, y: rect.y + i, style: style, maxWidth: rect.width)
                canvas.text("  " + option.detail, x: rect.x + used, y: rect.y + i, style: normal, maxWidth: rect.width - used)
            }
        }
    }

    public func handle(_ key: KeyEvent) -> Bool {
        let previous = horizontal ? KeyEvent.left : .up
        let next = horizontal ? KeyEvent.right : .down
        switch key {
        case previous where selected > 0: selected -= 1
        case next where selected < options.count - 1: selected += 1
        case previous, next: break
        case .char(" "): break
        default: return false
        }
        return true
    }
}
