import Foundation

/// Finds themes by name: the user's `${XDG_CONFIG_HOME:-~/.config}/vmtui/themes/` first (so a
/// user theme overrides a shipped one of the same name), then the shipped `themes/` beside the
/// build or under an installed `share/vmtui/themes`.
public struct ThemeStore: Sendable {
    public var directories: [URL]

    public init(directories: [URL]) { self.directories = directories }

    public static func standard(environment: [String: String] = ProcessInfo.processInfo.environment) -> ThemeStore {
        let config = environment["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (environment["HOME"] ?? NSHomeDirectory()) + "/.config"
        // /proc/self/exe resolves .build/debug (a symlink) to .build/<triple>/debug/vmtui.
        let exe = URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
                      ?? CommandLine.arguments[0]).deletingLastPathComponent()
        return ThemeStore(directories: [
            URL(fileURLWithPath: config).appendingPathComponent("vmtui/themes"),
            exe.appendingPathComponent("../../../themes").standardized,
            exe.appendingPathComponent("../share/vmtui/themes").standardized,
            URL(fileURLWithPath: "/usr/share/vmtui/themes"),
        ])
    }

    /// Theme names available, sorted, the built-in default included.
    public func names() -> [String] {
        var names: Set<String> = ["default"]
        for directory in directories {
            let files = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
            for file in files where file.hasSuffix(".json") { names.insert(String(file.dropLast(5))) }
        }
        return names.sorted()
    }

    /// The named theme, or the default with the reason it was not used.
    public func load(name: String) -> (theme: Theme, warning: String?) {
        guard !name.isEmpty, !name.contains("/") else {
            return (Theme.builtInDefault, "theme \"\(name)\" is not a theme name; using the default theme")
        }
        for directory in directories {
            let url = directory.appendingPathComponent("\(name).json")
            guard let data = FileManager.default.contents(atPath: url.path) else { continue }
            do { return (try ThemeFile.parse(data, name: name), nil) } catch {
                return (Theme.builtInDefault, "\(url.path): \(error); using the default theme")
            }
        }
        if name == "default" { return (Theme.builtInDefault, nil) }
        return (Theme.builtInDefault, "no theme named \"\(name)\" (have: \(names().joined(separator: ", "))); using the default theme")
    }
}
