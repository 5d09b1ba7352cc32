import Foundation

/// A one-line text entry. With a completer, Tab completes as a shell does: the single match,
/// or the common prefix and a list of candidates.
public final class TextField: FormField {
    public var label: String
    /// Setting the text puts the cursor at its end; edits then place it where they happened.
    public var text: String { didSet { cursor = text.count } }
    public var placeholder: String
    public var completer: ((String) -> [String])?
    public var isHidden = false
    public var isFocusable: Bool { true }
    public private(set) var cursor: Int
    public private(set) var candidates: [String] = []
    /// The last Tab found nothing to complete: said under the field, and focus stays here.
    public private(set) var noMatch = false
    public static let maxCandidateRows = 4

    public init(label: String, text: String = "", placeholder: String = "", completer: ((String) -> [String])? = nil) {
        self.label = label
        self.text = text
        self.placeholder = placeholder
        self.completer = completer
        cursor = text.count
    }

    public func height(width: Int) -> Int { 1 + (noMatch ? 1 : min(candidates.count, TextField.maxCandidateRows)) }

    public func draw(on canvas: Canvas, in rect: Rect, focused: Bool, styles: ThemeStyles, base: ThemeRole) {
        let input = focused ? styles.bold(.input) : styles[.input]
        let width = rect.width
        canvas.fill(Rect(x: rect.x, y: rect.y, width: width, height: 1), style: input)
        if text.isEmpty && !focused {
            canvas.text(placeholder, x: rect.x, y: rect.y, style: styles[.input], maxWidth: width)
        } else {
            // Keep the cursor visible: show the tail of long text.
            let skip = max(0, cursor - (width - 1))
            canvas.text(String(text.dropFirst(skip)), x: rect.x, y: rect.y, style: input, maxWidth: width)
            if focused { canvas.cursor = (rect.x + Canvas.columns(of: String(text.prefix(cursor).dropFirst(skip))), rect.y) }
        }
        if noMatch {
            canvas.text("nothing matches \"\(TextField.lastComponent(text))\" (Tab completes; ↓ or Enter moves on)", x: rect.x + 1, y: rect.y + 1,
                        style: styles[base], maxWidth: width - 1)
        }
        for (i, candidate) in candidates.prefix(TextField.maxCandidateRows).enumerated() {
            let more = i == TextField.maxCandidateRows - 1 && candidates.count > TextField.maxCandidateRows
            canvas.text(more ? "… \(candidates.count - i) more" : TextField.lastComponent(candidate), x: rect.x + 1, y: rect.y + 1 + i,
                        style: styles[base], maxWidth: width - 1)
        }
    }

    /// "dir/file.iso" shows as "file.iso", "dir/sub/" as "sub/": the part being completed.
    static func lastComponent(_ path: String) -> String {
        let trimmed = path.hasSuffix("/") ? String(path.dropLast()) : path
        let name = trimmed.split(separator: "/").last.map(String.init) ?? trimmed
        return path.hasSuffix("/") ? name + "/" : name
    }

    public func handle(_ key: KeyEvent) -> Bool {
        noMatch = false
        switch key {
        case let .char(c):
            let at = cursor
            text.insert(c, at: text.index(text.startIndex, offsetBy: at))
            cursor = at + 1
        case .backspace where cursor > 0:
            let at = cursor - 1
            text.remove(at: text.index(text.startIndex, offsetBy: at))
            cursor = at
        case .delete where cursor < text.count:
            let at = cursor
            text.remove(at: text.index(text.startIndex, offsetBy: at))
            cursor = at
        case .left: cursor = max(cursor - 1, 0)
        case .right: cursor = min(cursor + 1, text.count)
        case .home, .ctrl("a"): cursor = 0
        case .end, .ctrl("e"): cursor = text.count
        case .ctrl("u"): text = ""
        case .backspace, .delete: break
        case .tab: return complete()
        default: return false
        }
        candidates = []
        return true
    }

    private func complete() -> Bool {
        guard let completer else { return false }
        let matches = completer(text)
        let alreadyShown = !candidates.isEmpty
        // No match keeps the focus here: a Tab that moved on would send later typing elsewhere.
        guard !matches.isEmpty else { candidates = []; noMatch = true; return true }
        var prefix = matches[0]
        for match in matches.dropFirst() { prefix = String(prefix.commonPrefix(with: match)) }
        if prefix.count > text.count {
            text = prefix
            candidates = matches.count > 1 ? matches : []
            return true
        }
        if matches.count > 1 && !alreadyShown {
            candidates = matches
            return true
        }
        candidates = []
        return false
    }
}
