/// Word wrapping for messages and detail panes.
public enum TextWrap {
    /// Splits text into lines of at most `width` columns, breaking at spaces where possible and
    /// long words (paths) after a "/".
    public static func lines(_ text: String, width: Int) -> [String] {
        guard width > 0 else { return [] }
        var result: [String] = []
        for paragraph in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var line = ""
            for word in paragraph.split(separator: " ", omittingEmptySubsequences: false).map(String.init) {
                var word = word
                let candidate = line.isEmpty ? word : line + " " + word
                if Canvas.columns(of: candidate) <= width { line = candidate; continue }
                if !line.isEmpty { result.append(line) }
                while Canvas.columns(of: word) > width {
                    let head = word.prefix(width)
                    let cut = head.lastIndex(of: "/").map { head.distance(from: head.startIndex, to: $0) + 1 } ?? width
                    let take = cut > 1 ? cut : width
                    result.append(String(word.prefix(take)))
                    word = String(word.dropFirst(take))
                }
                line = word
            }
            result.append(line)
        }
        return result
    }

    /// As `lines`, for text made of fields that two spaces separate ("running  up 0:00:28
    /// 1 CPU  engine CPU 100%"): it breaks between fields where it can, so that a label stays on
    /// the line of its value; a field wider than `width` is wrapped by `lines`.
    public static func fieldLines(_ text: String, width: Int) -> [String] {
        guard width > 0 else { return [] }
        var result: [String] = []
        for paragraph in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var line = ""
            for field in paragraph.split(separator: "  ", omittingEmptySubsequences: false).map(String.init) {
                let candidate = line.isEmpty ? field : line + "  " + field
                if Canvas.columns(of: candidate) <= width { line = candidate; continue }
                if !line.isEmpty { result.append(line) }
                var pieces = lines(field, width: width)
                line = pieces.removeLast()
                result += pieces
            }
            result.append(line)
        }
        return result
    }
}
