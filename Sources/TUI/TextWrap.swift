/// Word wrapping for messages and detail panes.
public enum TextWrap {
    /// Splits text into lines of at most `width` columns, breaking at spaces where possible and
    /// long words (paths) after a "/".
    public static func lines(_ text: String, width: Int) -> [String] {
        pack(text, joinedBy: " ", width: width) { chop($0, width: width) }
    }

    /// As `lines`, for text made of fields that two spaces separate ("running  up 0:00:28
    /// 1 CPU  engine CPU 100%"): it breaks between fields where it can, so that a label stays on
    /// the line of its value; a field wider than `width` is wrapped by `lines`.
    public static func fieldLines(_ text: String, width: Int) -> [String] {
        pack(text, joinedBy: "  ", width: width) { lines($0, width: width) }
    }

    /// Each paragraph's pieces (what `separator` separates) put on lines greedily, joined by
    /// `separator`; a piece wider than a line goes to `split`, and its last part starts the next.
    private static func pack(_ text: String, joinedBy separator: String, width: Int,
                             split: (String) -> [String]) -> [String] {
        guard width > 0 else { return [] }
        var result: [String] = []
        for paragraph in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var line = ""
            for piece in paragraph.split(separator: separator, omittingEmptySubsequences: false).map(String.init) {
                let candidate = line.isEmpty ? piece : line + separator + piece
                if Canvas.columns(of: candidate) <= width { line = candidate; continue }
                if !line.isEmpty { result.append(line) }
                var parts = Canvas.columns(of: piece) > width ? split(piece) : [piece]
                line = parts.removeLast()
                result += parts
            }
            result.append(line)
        }
        return result
    }

    /// A word wider than `width` in lines, each cut after its last "/" where there is one.
    private static func chop(_ word: String, width: Int) -> [String] {
        var word = word
        var parts: [String] = []
        while Canvas.columns(of: word) > width {
            let head = word.prefix(width)
            let cut = head.lastIndex(of: "/").map { head.distance(from: head.startIndex, to: $0) + 1 } ?? width
            let take = cut > 1 ? cut : width
            parts.append(String(word.prefix(take)))
            word = String(word.dropFirst(take))
        }
        return parts + [word]
    }
}
