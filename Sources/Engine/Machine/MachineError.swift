/// Why a machine could not be assembled from its configuration; each names the fix.
public enum MachineError: Error, CustomStringConvertible, Equatable {
    case memorySize(Int)
    case floppySize(path: String, size: UInt64)
    case unsupportedDisk(path: String, reason: String)
    case storage(String)
    /// More disks on one interface than its controller has places for.
    case controllerFull(path: String, interface: String, limit: Int)
    /// The VM's boot ISO cannot be used: gone, unreadable, truncated or not ISO 9660.
    case bootISO(vm: String, path: String, problem: String)
    case memory(String)

    public static let memoryRange = 4...3072

    public var description: String {
        switch self {
        case .memorySize(let mib):
            return "memoryMiB \(mib) is out of range: use \(MachineError.memoryRange.lowerBound) to \(MachineError.memoryRange.upperBound) MiB"
        case .floppySize(let path, let size):
            return "\(path) is \(size) bytes, not a floppy image: sizes allowed are \(FloppyGeometry.allowedSizes) bytes (1474560 for 1.44 MB)"
        case .unsupportedDisk(let path, let reason):
            return "disk \(path): \(reason)"
        case .controllerFull(let path, let interface, let limit):
            return "disk \(path) not attached: the \(interface) controller holds \(limit) disks; put it on another interface (vmtui set NAME disk-interface=...) or remove a disk"
        case .bootISO(let vm, let path, let problem):
            return "boot ISO \(path) \(problem); put the right file there, or choose another with: vmtui set \(vm) iso=PATH (iso=none for no CD)"
        case .storage(let what), .memory(let what):
            return what
        }
    }
}
