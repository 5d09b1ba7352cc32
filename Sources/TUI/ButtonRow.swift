/// "[ Back ]  [ Next ]  [ Cancel ]", right-aligned; the focused button is highlighted and a
/// disabled one leaves its place empty so the others do not move.
public enum ButtonRow {
    public static func draw(_ titles: [String], focused: Int?, enabled: [Bool]? = nil, on canvas: Canvas,
                            rightEdge: Int, y: Int, styles: ThemeStyles, base: ThemeRole) {
        let labels = titles.map { "[ \($0) ]" }
        var x = rightEdge - labels.reduce(0) { $0 + Canvas.columns(of: $1) + 2 } + 2
        for (i, label) in labels.enumerated() {
            if enabled?[i] ?? true {
                canvas.text(label, x: x, y: y, style: i == focused ? styles[.selection] : styles.bold(base))
            }
            x += Canvas.columns(of: label) + 2
        }
    }
}
