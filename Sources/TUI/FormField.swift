/// One row (or a few) of a Form: a label on the left, a control on the right.
public protocol FormField: AnyObject {
    var label: String { get }
    var isHidden: Bool { get set }
    var isFocusable: Bool { get }
    /// Rows the field needs when its control is `width` columns wide.
    func height(width: Int) -> Int
    /// Draws the control (not the label) in `rect`.
    func draw(on canvas: Canvas, in rect: Rect, focused: Bool, styles: ThemeStyles, base: ThemeRole)
    /// Returns true if the field used the key; otherwise the Form may move focus.
    func handle(_ key: KeyEvent) -> Bool
}
