/// A string-valued config enum whose decoding error names the bad value and lists the allowed ones.
public protocol ConfigEnum: RawRepresentable, CaseIterable, Codable, Sendable where RawValue == String {}

extension ConfigEnum {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let raw = try container.decode(String.self)
        guard let value = Self(rawValue: raw) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "\"\(raw)\" is not allowed; allowed \(Self.allowedList)")
        }
        self = value
    }

    /// "a, b, c" for messages.
    public static var allowedList: String { allCases.map(\.rawValue).joined(separator: ", ") }

    /// Parses a command-line or form value, naming the field on failure.
    public static func parse(_ text: String, field: String) throws -> Self {
        guard let value = Self(rawValue: text.lowercased()) else {
            throw VMConfigError.invalid(file: nil, field: field, value: "\"\(text)\"", problem: "is not allowed",
                                        allowed: allowedList)
        }
        return value
    }
}
