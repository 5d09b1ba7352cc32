/// Plain-ASCII stand-ins for the few non-ASCII characters the screens use, for terminals whose
/// locale is not UTF-8 (LANG=C over ssh, the Linux console with a legacy font).
public enum ASCIIFallback {
    static let table: [Unicode.Scalar: Unicode.Scalar] = [
        "─": "-", "│": "|", "┌": "+", "┐": "+", "└": "+", "┘": "+", "├": "+", "┤": "+", "┬": "+", "┴": "+", "┼": "+",
        "▶": ">", "•": "*", "…": "~", "↑": "^", "↓": "v", "←": "<", "→": ">",
    ]

    public static func character(_ scalar: Unicode.Scalar) -> Unicode.Scalar {
        scalar.isASCII ? scalar : table[scalar] ?? "?"
    }
}
