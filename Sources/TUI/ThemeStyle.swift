/// How one role is drawn: colours plus attributes. Resolves to a CellStyle for the colours the
/// terminal actually has, so a theme stays readable on 8-colour and colourless terminals.
public struct ThemeStyle: Equatable, Sendable, Codable {
    public enum Attribute: String, Codable, CaseIterable, Sendable { case bold, reverse, underline, blink }

    public var fg: ThemeColor
    public var bg: ThemeColor
    public var attrs: [Attribute]

    public init(fg: ThemeColor, bg: ThemeColor, attrs: [Attribute] = []) {
        self.fg = fg
        self.bg = bg
        self.attrs = attrs
    }

    enum CodingKeys: String, CodingKey { case fg, bg, attrs }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        fg = try container.decodeIfPresent(ThemeColor.self, forKey: .fg) ?? .terminalDefault
        bg = try container.decodeIfPresent(ThemeColor.self, forKey: .bg) ?? .terminalDefault
        attrs = try container.decodeIfPresent([Attribute].self, forKey: .attrs) ?? []
    }

    public func resolved(for depth: ColorDepth) -> CellStyle {
        var style = CellStyle(foreground: -1, background: -1, bold: attrs.contains(.bold), reverse: attrs.contains(.reverse),
                              blink: attrs.contains(.blink), underline: attrs.contains(.underline))
        guard depth != .monochrome else {
            // Without colour, bright text shows bold; which roles are reversed is Theme.resolved's choice.
            if case let .index(n) = fg, (9...15).contains(n) { style.bold = true }
            return style
        }
        func number(_ color: ThemeColor) -> Int {
            if case let .index(n) = color { return n }
            return -1
        }
        var f = number(fg), b = number(bg)
        switch depth {
        case .colors256: break
        case .colors16:
            if f >= 16 { f %= 16 }
            if b >= 16 { b %= 16 }
        case .colors8, .monochrome:
            // Bright foregrounds become bold; bright backgrounds fall back to the base colour.
            if f >= 8 { style.bold = true; f %= 8 }
            if b >= 8 { b %= 8 }
        }
        style.foreground = f
        style.background = b
        return style
    }
}
