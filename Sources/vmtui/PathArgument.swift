import Foundation

/// Paths given on the command line are stored absolute, so the VM works from any directory.
enum PathArgument {
    static func absolute(_ path: String) -> String {
        let expanded = (path as NSString).expandingTildeInPath
        if expanded.hasPrefix("/") { return (expanded as NSString).standardizingPath }
        let cwd = FileManager.default.currentDirectoryPath
        return ((cwd as NSString).appendingPathComponent(expanded) as NSString).standardizingPath
    }

    /// `iso=rel/x.iso` becomes `iso=/abs/rel/x.iso` for the keys that take paths.
    static func absoluteSetting(_ setting: String) -> String {
        guard let equals = setting.firstIndex(of: "=") else { return setting }
        let key = setting[..<equals].lowercased()
        let value = String(setting[setting.index(after: equals)...])
        guard ["iso", "floppy", "bios", "vgabios"].contains(key), !["", "none", "default"].contains(value.lowercased()) else {
            return setting
        }
        return "\(key)=\(absolute(value))"
    }
}
