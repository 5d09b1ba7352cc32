/// A theme resolved for the current terminal: what panels draw with.
public struct ThemeStyles: Sendable {
    public var styles: [ThemeRole: CellStyle]

    public subscript(role: ThemeRole) -> CellStyle { styles[role] ?? CellStyle(foreground: -1, background: -1) }

    /// A role's style with bold added, for key letters and headings.
    public func bold(_ role: ThemeRole) -> CellStyle {
        var style = self[role]
        style.bold = true
        return style
    }
}
