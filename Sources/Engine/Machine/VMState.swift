/// Where a VM run by a VMSession is: what the library list and the console status show.
public enum VMState: Equatable, Sendable, CustomStringConvertible {
    /// The machine is being assembled (firmware, disks) on its engine thread.
    case starting
    case running
    case paused
    /// Paused by a guest write the host file system had no space for (the image's path);
    /// resuming retries the write.
    case hostDiskFull(path: String)
    /// Stopped for good; building failures arrive as `.hostError` with the message.
    case stopped(MachineStop)

    /// Running or paused: the engine thread is alive.
    public var isActive: Bool {
        switch self {
        case .starting, .running, .paused, .hostDiskFull: return true
        case .stopped: return false
        }
    }

    /// Paused by the user or by a full host disk: resume is what the user can do.
    public var isPaused: Bool {
        switch self {
        case .paused, .hostDiskFull: return true
        default: return false
        }
    }

    /// A short word or two for lists and status bars.
    public var label: String {
        switch self {
        case .starting: return "starting"
        case .running: return "running"
        case .paused: return "paused"
        case .hostDiskFull(let path): return DiskControllerStop.hostDiskFull(path: path).message
        case .stopped(.poweredOff), .stopped(.powerCut): return "powered off"
        case .stopped(.tripleFault): return "triple fault"
        case .stopped(.resetLoop): return "reset loop"
        case .stopped(.unsupported): return "unsupported"
        case .stopped(.hostError): return "host error"
        case .stopped(.debugExit(let code)): return "exited \(code)"
        }
    }

    public var description: String {
        if case .stopped(let stop) = self { return "stopped: \(stop)" }
        return label
    }
}
