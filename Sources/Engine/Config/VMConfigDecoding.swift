import Foundation

/// config.json on disk: pretty-printed with sorted keys, and decoding errors turned into
/// messages that name the field, the bad value and what is allowed.
enum VMConfigDecoding {
    static func encode(_ config: VMConfig) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(config) + Data("\n".utf8)
    }

    private struct Version: Decodable { var schemaVersion: Int? }

    static func decode(_ data: Data, file: String) throws -> VMConfig {
        let version: Version
        do { version = try JSONDecoder().decode(Version.self, from: data) } catch {
            throw VMConfigError.malformed(file: file, reason: "not valid JSON: \(jsonReason(data))")
        }
        guard let found = version.schemaVersion else {
            throw VMConfigError.malformed(file: file, reason: "schemaVersion is missing; allowed 1…\(VMConfig.currentSchemaVersion)")
        }
        guard found <= VMConfig.currentSchemaVersion else {
            throw VMConfigError.newerSchema(file: file, found: found, supported: VMConfig.currentSchemaVersion)
        }
        do { return try JSONDecoder().decode(VMConfig.self, from: data) } catch let error as DecodingError {
            throw VMConfigError.malformed(file: file, reason: describe(error, data: data))
        }
    }

    private static func path(_ codingPath: [any CodingKey]) -> String {
        codingPath.reduce(into: "") { text, key in
            if let index = key.intValue { text += "[\(index)]" } else { text += text.isEmpty ? key.stringValue : ".\(key.stringValue)" }
        }
    }

    private static func describe(_ error: DecodingError, data: Data) -> String {
        switch error {
        case let .keyNotFound(key, context):
            let field = path(context.codingPath + [key])
            return "\(field): missing; add it (see `vmtui show` of a working VM for the format)"
        case let .typeMismatch(type, context), let .valueNotFound(type, context):
            let value = rawValue(at: context.codingPath, in: data) ?? "the value"
            return "\(path(context.codingPath)): \(value) has the wrong type; allowed \(typeName(type))"
        case let .dataCorrupted(context):
            let field = path(context.codingPath)
            return field.isEmpty ? "not valid JSON: \(jsonReason(data))" : "\(field): \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }

    /// The JSON text of the value at a coding path, to quote it in a message.
    private static func rawValue(at codingPath: [any CodingKey], in data: Data) -> String? {
        guard var node = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) else { return nil }
        for key in codingPath {
            if let index = key.intValue, let array = node as? [Any], array.indices.contains(index) {
                node = array[index]
            } else if let object = node as? [String: Any], let child = object[key.stringValue] {
                node = child
            } else {
                return nil
            }
        }
        if node is NSNull { return "null" }
        guard let fragment = try? JSONSerialization.data(withJSONObject: node, options: [.fragmentsAllowed, .sortedKeys]) else {
            return nil
        }
        return String(decoding: fragment, as: UTF8.self)
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is Int.Type, is UInt64.Type: "a whole number"
        case is String.Type: "a string"
        case is [Any].Type: "a list"
        default: "a \(type)"
        }
    }

    /// Where the JSON broke, as a line number people can go to. Foundation's serializer reports
    /// "around character N" (a byte offset), which is turned into a line.
    private static func jsonReason(_ data: Data) -> String {
        do { _ = try JSONSerialization.jsonObject(with: data) } catch {
            let debug = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? "\(error)"
            guard let range = debug.range(of: "character "),
                  let offset = Int(debug[range.upperBound...].prefix { $0.isNumber }) else { return debug }
            let line = data.prefix(offset).reduce(1) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) }
            let what = debug[..<range.lowerBound].replacingOccurrences(of: " around ", with: "")
            return "\(what) at line \(line)"
        }
        return "the data is not what a config holds"
    }
}
