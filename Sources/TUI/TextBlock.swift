/// Information text inside a form (explanations, host limits, warnings); never focused.
public final class TextBlock: FormField {
    public var label: String
    public var text: String
    public var role: ThemeRole?
    public var isHidden = false
    public var isFocusable: Bool { false }

    /// `role` nil draws in the form's own style; `.error` for warnings.
    public init(label: String = "", text: String, role: ThemeRole? = nil) {
        self.label = label
        self.text = text
        self.role = role
    }

    public func height(width: Int) -> Int { text.isEmpty ? 0 : TextWrap.lines(text, width: width).count }

    public func draw(on canvas: Canvas, in rect: Rect, focused: Bool, styles: ThemeStyles, base: ThemeRole) {
        var style = styles[role ?? base]
        if role == .error { style.background = styles[base].background; style.bold = true }
        for (i, line) in TextWrap.lines(text, width: rect.width).enumerated() where i < rect.height {
            canvas.text(line, x: rect.x, y: rect.y + i, style: style, maxWidth: rect.width)
        }
    }

    public func handle(_ key: KeyEvent) -> Bool { false }
}
