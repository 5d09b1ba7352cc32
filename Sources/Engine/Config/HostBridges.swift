import Foundation

/// The host's network bridges: interfaces with a `bridge/` directory in sysfs.
public enum HostBridges {
    public static func list(sysClassNet: String = "/sys/class/net") -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: sysClassNet)) ?? []
        return names.filter { FileManager.default.fileExists(atPath: "\(sysClassNet)/\($0)/bridge") }.sorted()
    }
}
