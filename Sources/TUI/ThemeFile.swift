import Foundation

/// The JSON form of a theme: `{"name": ..., "description": ..., "roles": {"title": {"fg": "yellow",
/// "bg": "blue", "attrs": ["bold"]}, ...}}`. Roles left out take the built-in default's style.
struct ThemeFile: Codable {
    var name: String?
    var description: String?
    var roles: [String: ThemeStyle]

    static func parse(_ data: Data, name: String) throws -> Theme {
        let file: ThemeFile
        do { file = try JSONDecoder().decode(ThemeFile.self, from: data) } catch let DecodingError.dataCorrupted(context) {
            let field = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw ThemeError(message: field.isEmpty ? "not valid JSON" : "\(field): \(context.debugDescription)")
        } catch let DecodingError.keyNotFound(key, _) {
            throw ThemeError(message: "\(key.stringValue) is missing")
        } catch {
            throw ThemeError(message: "not a theme (expected {\"roles\": {ROLE: {\"fg\": COLOUR, \"bg\": COLOUR}}})")
        }
        var styles: [ThemeRole: ThemeStyle] = [:]
        for (key, style) in file.roles {
            guard let role = ThemeRole(rawValue: key) else {
                throw ThemeError(message: "roles.\(key) is not a role; allowed \(ThemeRole.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            styles[role] = style
        }
        for role in ThemeRole.allCases where styles[role] == nil { styles[role] = Theme.builtInDefault[role] }
        return Theme(name: file.name ?? name, description: file.description ?? "", styles: styles)
    }
}
