/// A colour theme: a style for every role. Loaded from themes/NAME.json; a built-in default
/// means the screen always has one.
public struct Theme: Equatable, Sendable {
    public var name: String
    public var description: String
    public var styles: [ThemeRole: ThemeStyle]

    public init(name: String, description: String, styles: [ThemeRole: ThemeStyle]) {
        self.name = name
        self.description = description
        self.styles = styles
    }

    public subscript(role: ThemeRole) -> ThemeStyle {
        styles[role] ?? Theme.builtInDefault.styles[role]!
    }

    /// Every role's CellStyle for a terminal with `depth` colours.
    public func resolved(for depth: ColorDepth) -> ThemeStyles {
        ThemeStyles(styles: Dictionary(uniqueKeysWithValues: ThemeRole.allCases.map { role in
            var style = self[role].resolved(for: depth)
            if depth == .monochrome {
                // Without colour, only what must stand out is reversed (so a focused button, the
                // selection, shows inside a dialog), and entry fields are underlined.
                if Theme.reversedWithoutColour.contains(role) { style.reverse = true }
                if role == .input { style.underline = true }
            }
            return (role, style)
        }))
    }

    static let reversedWithoutColour: Set<ThemeRole> = [.selection, .statusBar]

    /// Blue windows on the terminal's own background, as vmtui looks out of the box.
    public static let builtInDefault: Theme = {
        func s(_ fg: String, _ bg: String, _ attrs: [ThemeStyle.Attribute] = []) -> ThemeStyle {
            ThemeStyle(fg: ThemeColor(name: fg)!, bg: ThemeColor(name: bg)!, attrs: attrs)
        }
        return Theme(name: "default", description: "Built-in: white on blue windows, cyan selection", styles: [
            .background: s("white", "blue"),
            .window: s("white", "blue"),
            .border: s("bright-cyan", "blue"),
            .title: s("bright-yellow", "blue", [.bold]),
            .selection: s("black", "cyan"),
            .statusBar: s("black", "white"),
            .dialog: s("black", "white"),
            .input: s("bright-white", "black"),
            .error: s("bright-red", "blue", [.bold]),
            .consoleFrame: s("bright-white", "blue"),
        ])
    }()
}
