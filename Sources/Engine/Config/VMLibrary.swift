import Foundation

/// The VMs on disk: one bundle `NAME.vmtui/` (config.json and disk images) per VM under
/// `$VMTUI_HOME/VMs/`, where VMTUI_HOME defaults to `${XDG_DATA_HOME:-~/.local/share}/vmtui`.
public struct VMLibrary: Sendable {
    public let home: URL

    public init(home: URL = VMLibrary.defaultHome()) { self.home = home }

    public static func defaultHome(environment: [String: String] = ProcessInfo.processInfo.environment) -> URL {
        if let explicit = environment["VMTUI_HOME"], !explicit.isEmpty {
            return URL(fileURLWithPath: explicit, isDirectory: true)
        }
        let data = environment["XDG_DATA_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (environment["HOME"] ?? NSHomeDirectory()) + "/.local/share"
        return URL(fileURLWithPath: data, isDirectory: true).appendingPathComponent("vmtui", isDirectory: true)
    }

    public var vmsDirectory: URL { home.appendingPathComponent("VMs", isDirectory: true) }

    public func bundleURL(name: String) -> URL {
        vmsDirectory.appendingPathComponent("\(name).vmtui", isDirectory: true)
    }

    public func configURL(name: String) -> URL {
        bundleURL(name: name).appendingPathComponent("config.json")
    }
}
