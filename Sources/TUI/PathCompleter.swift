import Foundation

/// File name completion for path fields: directories (with a trailing /) and the files whose
/// extension is wanted. `~` is expanded.
public enum PathCompleter {
    public static func complete(_ text: String, extensions: [String] = []) -> [String] {
        let expanded = (text as NSString).expandingTildeInPath
        let slash = expanded.lastIndex(of: "/")
        let directoryPart = slash.map { String(expanded[...$0]) } ?? ""
        let prefix = slash.map { String(expanded[expanded.index(after: $0)...]) } ?? expanded
        let directory = directoryPart.isEmpty ? FileManager.default.currentDirectoryPath : directoryPart
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        var results: [String] = []
        for name in names.sorted() where name.hasPrefix(prefix) && (prefix.hasPrefix(".") || !name.hasPrefix(".")) {
            var isDirectory: ObjCBool = false
            let path = (directory as NSString).appendingPathComponent(name)
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { continue }
            if isDirectory.boolValue {
                results.append(directoryPart + name + "/")
            } else if extensions.isEmpty || extensions.contains((name as NSString).pathExtension.lowercased()) {
                results.append(directoryPart + name)
            }
        }
        return results
    }
}
