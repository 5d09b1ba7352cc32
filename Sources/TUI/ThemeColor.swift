/// A theme colour: the terminal's default, or a palette index (0-7 the ANSI colours in curses
/// order, 8-15 their bright forms, up to 255 on 256-colour terminals). JSON: a name or a number.
public enum ThemeColor: Equatable, Sendable, Codable {
    case terminalDefault
    case index(Int)

    public static let names = ["black", "red", "green", "yellow", "blue", "magenta", "cyan", "white"]
    public static let allowed = "default, \(names.joined(separator: ", ")), bright-<name>, or 0…255"

    public init?(name: String) {
        let n = name.lowercased()
        if n == "default" { self = .terminalDefault; return }
        if let base = ThemeColor.names.firstIndex(of: n) { self = .index(base); return }
        for prefix in ["bright-", "bright"] where n.hasPrefix(prefix) {
            if let base = ThemeColor.names.firstIndex(of: String(n.dropFirst(prefix.count))) { self = .index(base + 8); return }
        }
        if let value = Int(n), (0...255).contains(value) { self = .index(value); return }
        return nil
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(Int.self), (0...255).contains(number) { self = .index(number); return }
        let text = (try? container.decode(String.self)) ?? "?"
        guard let color = ThemeColor(name: text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "\"\(text)\" is not a colour; allowed \(ThemeColor.allowed)")
        }
        self = color
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .terminalDefault: try container.encode("default")
        case let .index(n) where n < 8: try container.encode(ThemeColor.names[n])
        case let .index(n) where n < 16: try container.encode("bright-" + ThemeColor.names[n - 8])
        case let .index(n): try container.encode(n)
        }
    }
}
