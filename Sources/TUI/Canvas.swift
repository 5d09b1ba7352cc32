/// The frame being drawn: a grid of cells that panels paint into. The terminal diffs it against
/// the previous frame; tests read it back as text without any terminal.
public final class Canvas {
    public let width: Int
    public let height: Int
    public private(set) var cells: [Cell]
    /// Where the terminal cursor should be shown (a text field being edited); nil hides it.
    public var cursor: (x: Int, y: Int)?
    /// A block cursor instead of the terminal's normal one (a guest that asked for a full-cell cursor).
    public var cursorBlock = false

    public init(width: Int, height: Int) {
        self.width = max(width, 0)
        self.height = max(height, 0)
        cells = Array(repeating: .blank, count: self.width * self.height)
    }

    public var bounds: Rect { Rect(x: 0, y: 0, width: width, height: height) }

    public subscript(x: Int, y: Int) -> Cell {
        get { cells[y * width + x] }
        set { if x >= 0, y >= 0, x < width, y < height { cells[y * width + x] = newValue } }
    }

    public func fill(_ rect: Rect, style: CellStyle, with scalar: Unicode.Scalar = " ") {
        for y in max(rect.y, 0)..<min(rect.maxY, height) {
            for x in max(rect.x, 0)..<min(rect.maxX, width) { cells[y * width + x] = Cell(scalar, style) }
        }
    }

    /// Terminal columns a character takes: 0 (combining), 1, or 2 (East Asian wide, emoji).
    /// Computed here rather than with wcwidth(3) so layout does not depend on the locale.
    public static func columns(of scalar: Unicode.Scalar) -> Int {
        switch scalar.properties.generalCategory {
        case .nonspacingMark, .enclosingMark, .format: return 0
        default: break
        }
        switch scalar.value {
        case 0x1100...0x115F, 0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xA000...0xA4CF,
             0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE30...0xFE4F, 0xFF00...0xFF60, 0xFFE0...0xFFE6,
             0x1F300...0x1F64F, 0x1F900...0x1F9FF, 0x20000...0x3FFFD:
            return 2
        default:
            return 1
        }
    }

    public static func columns(of text: String) -> Int {
        text.unicodeScalars.reduce(0) { $0 + columns(of: $1) }
    }

    /// Writes text at (x, y), clipped to `maxWidth` columns; returns the columns used.
    @discardableResult
    public func text(_ text: String, x: Int, y: Int, style: CellStyle, maxWidth: Int? = nil) -> Int {
        guard y >= 0, y < height else { return 0 }
        let limit = min(maxWidth ?? width - x, width - x)
        var used = 0
        for scalar in text.unicodeScalars {
            var s = scalar
            var w = Canvas.columns(of: s)
            if w == 0 { continue }
            if s.value < 0x20 || (0x7F...0x9F).contains(s.value) { s = "?"; w = 1 }
            guard used + w <= limit else { break }
            self[x + used, y] = Cell(s, style)
            if w == 2 { self[x + used + 1, y] = Cell(Cell.continuation, style) }
            used += w
        }
        return used
    }

    /// Text padded with the style's background to exactly `width` columns.
    public func line(_ text: String, x: Int, y: Int, width: Int, style: CellStyle) {
        let used = self.text(text, x: x, y: y, style: style, maxWidth: width)
        fill(Rect(x: x + used, y: y, width: width - used, height: 1), style: style)
    }

    public func horizontal(_ scalar: Unicode.Scalar, x: Int, y: Int, length: Int, style: CellStyle) {
        fill(Rect(x: x, y: y, width: length, height: 1), style: style, with: scalar)
    }

    public func vertical(_ scalar: Unicode.Scalar, x: Int, y: Int, length: Int, style: CellStyle) {
        fill(Rect(x: x, y: y, width: 1, height: length), style: style, with: scalar)
    }

    /// A single-line box with an optional title in the top edge ("┌ title ───┐").
    public func box(_ rect: Rect, style: CellStyle, title: String? = nil, titleStyle: CellStyle? = nil) {
        guard rect.width >= 2, rect.height >= 2 else { return }
        horizontal("─", x: rect.x + 1, y: rect.y, length: rect.width - 2, style: style)
        horizontal("─", x: rect.x + 1, y: rect.maxY - 1, length: rect.width - 2, style: style)
        vertical("│", x: rect.x, y: rect.y + 1, length: rect.height - 2, style: style)
        vertical("│", x: rect.maxX - 1, y: rect.y + 1, length: rect.height - 2, style: style)
        self[rect.x, rect.y] = Cell("┌", style)
        self[rect.maxX - 1, rect.y] = Cell("┐", style)
        self[rect.x, rect.maxY - 1] = Cell("└", style)
        self[rect.maxX - 1, rect.maxY - 1] = Cell("┘", style)
        if let title, rect.width > 4 {
            text(" \(title) ", x: rect.x + 1, y: rect.y, style: titleStyle ?? style, maxWidth: rect.width - 3)
        }
    }

    /// One row as a string (continuation cells dropped), for tests and text captures.
    public func row(_ y: Int) -> String {
        var out = String.UnicodeScalarView()
        for x in 0..<width where self[x, y].scalar != Cell.continuation { out.append(self[x, y].scalar) }
        return String(out)
    }

    public var text: String { (0..<height).map { row($0) }.joined(separator: "\n") }
}
