/// Word wrapping for messages and detail panes.
public enum TextWrap {
    /// Splits text into lines of at most `width` columns, breaking at spaces where possible.
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
                    result.append(String(word.prefix(width)))
                    word = String(word.dropFirst(width))
                }
                line = word
            }
            result.append(line)
        }
        return result
    }
}
