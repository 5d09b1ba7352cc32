/// How many colours the terminal offers; decides how VGA attributes are drawn.
public enum ColorDepth: Equatable, Sendable {
    case monochrome, colors8, colors16, colors256

    /// From ncurses' COLORS after start_color (0 when the terminal has no colour).
    public init(terminalColors: Int) {
        switch terminalColors {
        case 256...: self = .colors256
        case 16..<256: self = .colors16
        case 8..<16: self = .colors8
        default: self = .monochrome
        }
    }
}

/// A terminal rendition of one VGA cell: curses colour numbers (-1 = terminal default) and
/// attributes. Hashable so a renderer can allocate one colour pair per distinct style.
public struct CellStyle: Hashable, Sendable {
    public var foreground: Int
    public var background: Int
    public var bold = false
    public var reverse = false
    public var blink = false
    public var underline = false
}

/// Maps VGA attribute bytes (low nibble foreground, bits 6:4 background, bit 7 blink or
/// bright background) onto a terminal's colours.
public enum VGAPalette {
    /// VGA numbers colours blue=1, red=4; curses numbers them red=1, blue=4 (STYLE.md).
    public static let cursesOrder = [0, 4, 2, 6, 1, 5, 3, 7]

    /// The 16 VGA colours as the nearest xterm-256 palette entries (6x6x6 cube and greys).
    public static let xterm256 = [16, 19, 34, 37, 124, 127, 130, 248, 240, 63, 83, 87, 203, 207, 227, 231]

    public static func style(attribute: UInt8, depth: ColorDepth, blinkEnabled: Bool) -> CellStyle {
        let fg = Int(attribute & 0x0F)
        let blinking = blinkEnabled && attribute & 0x80 != 0
        let bg = Int(attribute >> 4) & (blinkEnabled ? 0x07 : 0x0F)
        switch depth {
        case .colors256:
            return CellStyle(foreground: xterm256[fg], background: xterm256[bg], blink: blinking)
        case .colors16:
            return CellStyle(foreground: curses16(fg), background: curses16(bg), blink: blinking)
        case .colors8:
            // Bright foregrounds become bold; bright backgrounds lose their brightness.
            return CellStyle(foreground: cursesOrder[fg & 7], background: cursesOrder[bg & 7],
                             bold: fg >= 8, blink: blinking)
        case .monochrome:
            // Light backgrounds (e.g. a selection bar) show reversed; bright text bold;
            // blue-on-black is what MDA showed underlined.
            let lightBackground = bg & 7 == 7 || bg >= 8
            return CellStyle(foreground: -1, background: -1, bold: fg >= 8 && !lightBackground,
                             reverse: lightBackground, blink: blinking, underline: fg == 1 && bg == 0)
        }
    }

    @inline(__always) static func curses16(_ vga: Int) -> Int { cursesOrder[vga & 7] + (vga >= 8 ? 8 : 0) }
}
