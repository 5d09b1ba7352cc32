import Foundation

/// Whether Virtualize (KVM) can run here, and if not, why and what to do about it.
public enum KVMAvailability: Equatable, Sendable {
    case available
    /// The CPU lacks VT-x/AMD-V (no vmx/svm flag), e.g. a cloud VM without nested virtualization.
    case noHardwareSupport
    /// The CPU has VT-x/AMD-V but the kvm module is not loaded (or is disabled in firmware).
    case missingDevice
    case noPermission(user: String)

    public static func probe(devicePath: String = "/dev/kvm", cpuinfoPath: String = "/proc/cpuinfo") -> KVMAvailability {
        let cpuinfo = (try? String(contentsOfFile: cpuinfoPath, encoding: .utf8)) ?? ""
        return classify(deviceExists: FileManager.default.fileExists(atPath: devicePath),
                        deviceAccessible: access(devicePath, R_OK | W_OK) == 0,
                        cpuinfo: cpuinfo,
                        user: ProcessInfo.processInfo.environment["USER"] ?? "your user")
    }

    /// The decision, separate from the file system so it can be tested.
    public static func classify(deviceExists: Bool, deviceAccessible: Bool, cpuinfo: String, user: String) -> KVMAvailability {
        if deviceExists { return deviceAccessible ? .available : .noPermission(user: user) }
        let flags = cpuinfo.split(separator: "\n").first { $0.hasPrefix("flags") }?
            .split(separator: " ").map(String.init) ?? []
        return flags.contains("vmx") || flags.contains("svm") ? .missingDevice : .noHardwareSupport
    }

    public var isAvailable: Bool { self == .available }

    /// One or two lines for the wizard and `run`.
    public var explanation: String {
        switch self {
        case .available:
            return "KVM is available on this host, but vmtui does not use it yet: the VM runs on the software CPU"
        case .noHardwareSupport:
            return "not available here: the CPU shows no VT-x/AMD-V (no vmx/svm flag in /proc/cpuinfo); "
                + "use Emulate, or enable nested virtualization on the host"
        case .missingDevice:
            return "not available here: /dev/kvm is missing (modprobe kvm_intel or kvm_amd; "
                + "enable VT-x/AMD-V in the firmware); use Emulate meanwhile"
        case let .noPermission(user):
            return "not available here: no permission on /dev/kvm (sudo usermod -aG kvm \(user), "
                + "then log in again); use Emulate meanwhile"
        }
    }
}
