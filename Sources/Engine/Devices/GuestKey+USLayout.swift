extension GuestKeyStroke {
    private static let unshifted: [Character: GuestKey] = [
        "1": .digit1, "2": .digit2, "3": .digit3, "4": .digit4, "5": .digit5, "6": .digit6, "7": .digit7,
        "8": .digit8, "9": .digit9, "0": .digit0, "-": .minus, "=": .equals, "[": .leftBracket,
        "]": .rightBracket, ";": .semicolon, "'": .apostrophe, "`": .grave, "\\": .backslash,
        ",": .comma, ".": .period, "/": .slash, " ": .space, "\t": .tab, "\r": .enter, "\n": .enter,
        "a": .a, "b": .b, "c": .c, "d": .d, "e": .e, "f": .f, "g": .g, "h": .h, "i": .i, "j": .j,
        "k": .k, "l": .l, "m": .m, "n": .n, "o": .o, "p": .p, "q": .q, "r": .r, "s": .s, "t": .t,
        "u": .u, "v": .v, "w": .w, "x": .x, "y": .y, "z": .z,
    ]
    private static let shifted: [Character: GuestKey] = [
        "!": .digit1, "@": .digit2, "#": .digit3, "$": .digit4, "%": .digit5, "^": .digit6, "&": .digit7,
        "*": .digit8, "(": .digit9, ")": .digit0, "_": .minus, "+": .equals, "{": .leftBracket,
        "}": .rightBracket, ":": .semicolon, "\"": .apostrophe, "~": .grave, "|": .backslash,
        "<": .comma, ">": .period, "?": .slash,
    ]

    /// The stroke that types `character` on a US keyboard, or nil if it has none. Control
    /// characters (0x01-0x1A) become Ctrl+letter, except Tab, Enter and Backspace (0x08/0x7F).
    public init?(typing character: Character) {
        if let key = GuestKeyStroke.unshifted[character] { self.init(key); return }
        if let key = GuestKeyStroke.shifted[character] { self.init(key, shift: true); return }
        if character.isUppercase, let key = GuestKeyStroke.unshifted[Character(character.lowercased())] {
            self.init(key, shift: true); return
        }
        guard let ascii = character.asciiValue else { return nil }
        switch ascii {
        case 0x08, 0x7F: self.init(.backspace)
        case 0x1B: self.init(.escape)
        case 0x01...0x1A:
            let letter = Character(Unicode.Scalar(ascii + 0x60))
            guard let key = GuestKeyStroke.unshifted[letter] else { return nil }
            self.init(key, ctrl: true)
        default: return nil
        }
    }
}
