/// VM names become directory names (`NAME.vmtui`), so they are kept to a portable, shell-safe set.
public enum VMName {
    public static let maxLength = 64
    public static let rule = "1-64 characters: letters, digits, '.', '_', '-', starting with a letter or digit"

    public static func isValid(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, name.unicodeScalars.count <= maxLength else { return false }
        func plain(_ s: Unicode.Scalar) -> Bool {
            s.isASCII && (("a"..."z").contains(s) || ("A"..."Z").contains(s) || ("0"..."9").contains(s))
        }
        return plain(first) && name.unicodeScalars.allSatisfy { plain($0) || $0 == "." || $0 == "_" || $0 == "-" }
    }

    public static func validate(_ name: String) throws {
        guard isValid(name) else {
            throw VMConfigError.invalid(file: nil, field: "name", value: "\"\(name)\"", problem: "is not a usable name",
                                        allowed: rule)
        }
    }
}
