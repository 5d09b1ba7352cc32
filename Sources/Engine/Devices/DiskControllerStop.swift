/// Why a disk controller stopped serving its guest, told to the controller's owner (the
/// machine pauses or stops the VM). Controllers never block inside an MMIO handler: the
/// request that hit the problem is kept, not completed, so the guest sees no error.
public enum DiskControllerStop: Equatable, Sendable {
    /// A write found the host file system full (ENOSPC/EDQUOT). Free space, then `retry()`
    /// the controller: the kept request runs again as if nothing had happened.
    case hostDiskFull(path: String)
    /// fsync failed: not retryable (the kernel may have dropped the dirty pages). The VM must
    /// stop; `message` names the image and says what state it is in.
    case flushFailed(path: String, message: String)

    public var message: String {
        switch self {
        case .hostDiskFull(let path): "paused: host disk full (\(path))"
        case .flushFailed(_, let message): "stopped: \(message)"
        }
    }

    /// The stop a storage error calls for, nil for errors the guest gets as an I/O error
    /// (a full host disk is one of those on a disk whose policy is `report`).
    init?(_ error: StorageError, onHostDiskFull policy: HostDiskFullPolicy) {
        switch error.kind {
        case .failed: return nil
        case .hostDiskFull:
            guard policy == .pause else { return nil }
            self = .hostDiskFull(path: error.path)
        case .flushFailed: self = .flushFailed(path: error.path, message: error.description)
        }
    }
}
