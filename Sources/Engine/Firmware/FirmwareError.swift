/// Why the firmware could not be loaded; each case names the file and the fix.
public enum FirmwareError: Error, CustomStringConvertible, Equatable {
    case missing(path: String, what: String)
    case unreadable(path: String, reason: String)
    case badSize(path: String, size: Int, allowed: String)
    case notFirmware(path: String, problem: String, allowed: String)

    public var description: String {
        switch self {
        case .missing(let path, let what):
            return "\(what) not found at \(path): install Debian's firmware with `apt-get install seabios`, or point the VM's firmware setting (--bios) at another file"
        case .unreadable(let path, let reason):
            return "cannot read firmware file \(path): \(reason)"
        case .badSize(let path, let size, let allowed):
            return "\(path) is \(size) bytes, which is not a usable image: \(allowed)"
        case .notFirmware(let path, let problem, let allowed):
            return "\(path) \(problem); use \(allowed)"
        }
    }
}
