/// Fields stacked vertically with labels in a column. Tab/↓ move to the next field and
/// Shift-Tab/↑ to the previous one, unless the focused field uses the key.
public final class Form {
    public var fields: [any FormField]
    public private(set) var focus: Int?
    /// The field focused before blur(), where typing on a button goes back to.
    private var lastFocus: Int?
    public var labelWidth: Int

    public init(fields: [any FormField], labelWidth: Int = 10) {
        self.fields = fields
        self.labelWidth = labelWidth
    }

    private var focusable: [Int] { fields.indices.filter { fields[$0].isFocusable && !fields[$0].isHidden } }

    public var focusedField: (any FormField)? { focus.map { fields[$0] } }

    public func focusFirst() { focus = focusable.first }
    public func focusLast() { focus = focusable.last }
    public func blur() {
        lastFocus = focus ?? lastFocus
        focus = nil
    }

    /// Focuses the field that had focus before blur() (or the first one).
    public func restoreFocus() {
        focus = lastFocus.flatMap { focusable.contains($0) ? $0 : nil } ?? focusable.first
    }

    /// Moves focus on; false when it is already on the last field (the owner takes over).
    public func focusNext() -> Bool {
        guard let next = focusable.first(where: { $0 > (focus ?? -1) }) else { return false }
        focus = next
        return true
    }

    public func focusPrevious() -> Bool {
        guard let previous = focusable.last(where: { $0 < (focus ?? fields.count) }) else { return false }
        focus = previous
        return true
    }

    /// After fields are hidden or shown, keeps focus on a visible field.
    public func revalidateFocus() {
        if let current = focus, fields[current].isHidden || !fields[current].isFocusable {
            focus = focusable.last(where: { $0 < current }) ?? focusable.first
        }
    }

    public func handle(_ key: KeyEvent) -> Bool {
        if let field = focusedField, field.handle(key) { return true }
        switch key {
        case .tab, .down: return focusNext()
        case .backTab, .up: return focusPrevious()
        default: return false
        }
    }

    /// Total rows the visible fields take at this width.
    public func height(width: Int) -> Int {
        fields.filter { !$0.isHidden }.reduce(0) { $0 + max($1.height(width: width - labelWidth), 1) }
    }

    public func draw(on canvas: Canvas, in rect: Rect, styles: ThemeStyles, base: ThemeRole) {
        var y = rect.y
        for (index, field) in fields.enumerated() where !field.isHidden {
            let rows = max(field.height(width: rect.width - labelWidth), 1)
            guard y + rows <= rect.maxY else { break }
            let focused = index == focus
            canvas.text(field.label, x: rect.x, y: y, style: focused ? styles.bold(base) : styles[base], maxWidth: labelWidth - 1)
            field.draw(on: canvas, in: Rect(x: rect.x + labelWidth, y: y, width: rect.width - labelWidth, height: rows),
                       focused: focused, styles: styles, base: base)
            y += rows
        }
    }
}
