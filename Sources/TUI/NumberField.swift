/// A whole number with limits: digits to type, ←→ or -/+ to step. The limits are shown beside it.
public final class NumberField: FormField {
    public var label: String
    public var range: ClosedRange<Int>
    public var unit: String
    public var step: Int
    public var isHidden = false
    public var isFocusable: Bool { true }
    public private(set) var text: String

    public init(label: String, value: Int, range: ClosedRange<Int>, unit: String = "", step: Int = 1) {
        self.label = label
        self.range = range
        self.unit = unit
        self.step = step
        text = String(value)
    }

    /// The typed number, or nil when empty or not a number.
    public var value: Int? { Int(text) }
    public var isInRange: Bool { value.map(range.contains) ?? false }

    public func height(width: Int) -> Int { 1 }

    public func draw(on canvas: Canvas, in rect: Rect, focused: Bool, styles: ThemeStyles, base: ThemeRole) {
        let input = focused ? styles.bold(.input) : styles[.input]
        let boxWidth = min(8, rect.width)
        canvas.fill(Rect(x: rect.x, y: rect.y, width: boxWidth, height: 1), style: input)
        canvas.text(text, x: rect.x + boxWidth - min(text.count, boxWidth), y: rect.y, style: input, maxWidth: boxWidth)
        if focused { canvas.cursor = (rect.x + boxWidth - 1, rect.y) }
        var note = " \(unit)  (\(range.lowerBound)…\(range.upperBound))"
        var style = styles[base]
        if !isInRange {
            note += " out of range"
            style = styles[.error]
            style.background = styles[base].background
        }
        canvas.text(note, x: rect.x + boxWidth, y: rect.y, style: style, maxWidth: rect.width - boxWidth)
    }

    public func handle(_ key: KeyEvent) -> Bool {
        switch key {
        case let .char(c) where c.isASCII && c.isNumber:
            text = text == "0" ? String(c) : text + String(c)
            if text.count > 9 { text.removeFirst() }
        case .backspace: if !text.isEmpty { text.removeLast() }
        case .ctrl("u"): text = ""
        case .left, .char("-"): set((value ?? range.lowerBound) - step)
        case .right, .char("+"): set((value ?? range.lowerBound) + step)
        default: return false
        }
        return true
    }

    public func set(_ newValue: Int) { text = String(min(max(newValue, range.lowerBound), range.upperBound)) }

    /// Shows a value as it is, out of range or not (a config's value, to be seen and fixed).
    public func show(_ value: Int) { text = String(value) }
}
