#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Ctrl-C (SIGINT) and SIGTERM as a flag the run loop polls, so the machine powers off
/// cleanly (disks flushed, screen printed) instead of the process dying mid-write.
public enum HostInterrupt {
    private static let flag = Atomic<Bool>(false)

    public static func install() {
        signal(SIGINT) { _ in HostInterrupt.flag.store(true, ordering: .relaxed) }
        signal(SIGTERM) { _ in HostInterrupt.flag.store(true, ordering: .relaxed) }
    }

    public static var requested: Bool { flag.load(ordering: .relaxed) }
}
