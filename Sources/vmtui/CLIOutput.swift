import Engine
import Foundation

/// Where the commands write: results on stdout, problems on stderr.
enum CLIOutput {
    static func warn(_ message: String) {
        FileHandle.standardError.write(Data("vmtui: \(message)\n".utf8))
    }

    static func fail(_ message: String, code: Int32) -> Never {
        warn(message)
        exit(code)
    }

    static func json<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }
}

extension VMConfigError {
    /// I/O problems are failures (1); everything else is a usage or validation error (2).
    var exitCode: Int32 {
        if case .io = self { return 1 }
        return 2
    }
}
