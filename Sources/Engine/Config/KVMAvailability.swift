import CKVM
import Foundation

/// Whether Virtualize (KVM) can run here, and if not, why and what to do about it. The wizard,
/// `create`, `set` and `run` all ask `probe()`, so they all say the same thing.
public enum KVMAvailability: Equatable, Sendable {
    case available
    /// /dev/kvm belongs to kvm-pvm, a paravirtual KVM that emulates ring-0 and real-mode code
    /// in the host kernel: SeaBIOS gets to its banner, then boot loaders stop with internal errors.
    case paravirtualOnly
    /// The CPU lacks VT-x/AMD-V (no vmx/svm flag), e.g. a cloud VM without nested virtualization.
    case noHardwareSupport
    /// The CPU has VT-x/AMD-V but the kvm module is not loaded (or is disabled in firmware).
    case missingDevice
    /// /dev/kvm exists but this user cannot open it read-write.
    case noPermission(user: String)
    /// KVM_GET_API_VERSION answered something other than 12 (the only stable KVM API).
    case wrongAPIVersion(Int)
    /// KVM_CREATE_VM failed with EBUSY: another hypervisor holds VT-x/AMD-V.
    case busy
    /// The device opened but did not behave as KVM (the message names the call and the error).
    case notKVM(String)

    /// The host facts detection reads; paths are parameters so tests can point them elsewhere.
    public static func probe(devicePath: String = "/dev/kvm", moduleDirectory: String = "/sys/module",
                             cpuinfoPath: String = "/proc/cpuinfo") -> KVMAvailability {
        if FileManager.default.fileExists(atPath: moduleDirectory + "/kvm_pvm") { return .paravirtualOnly }
        let user = ProcessInfo.processInfo.environment["USER"] ?? "your user"
        let fd = open(devicePath, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else {
            let cpuinfo = (try? String(contentsOfFile: cpuinfoPath, encoding: .utf8)) ?? ""
            return classify(openError: errno, cpuinfo: cpuinfo, user: user)
        }
        defer { close(fd) }
        let version = ckvm_ioctl_value(fd, ckvm_get_api_version(), 0)
        guard version >= 0 else {
            return .notKVM("\(devicePath) is not a KVM device (KVM_GET_API_VERSION: \(String(cString: strerror(errno))))")
        }
        guard version == KVM_API_VERSION else { return .wrongAPIVersion(Int(version)) }
        let vm = ckvm_ioctl_value(fd, ckvm_create_vm(), 0)
        guard vm >= 0 else { return classify(createVMError: errno) }
        close(vm)
        return .available
    }

    /// The decision after open(2) of the device failed with `openError`.
    public static func classify(openError: Int32, cpuinfo: String, user: String) -> KVMAvailability {
        switch openError {
        case EACCES, EPERM:
            return .noPermission(user: user)
        case ENOENT, ENODEV, ENXIO:
            let flags = cpuinfo.split(separator: "\n").first { $0.hasPrefix("flags") }?
                .split(separator: " ").map(String.init) ?? []
            return flags.contains("vmx") || flags.contains("svm") ? .missingDevice : .noHardwareSupport
        default:
            return .notKVM("cannot open /dev/kvm: \(String(cString: strerror(openError)))")
        }
    }

    /// The decision after KVM_CREATE_VM failed with `createVMError`.
    public static func classify(createVMError: Int32) -> KVMAvailability {
        createVMError == EBUSY ? .busy : .notKVM("KVM_CREATE_VM failed: \(String(cString: strerror(createVMError)))")
    }

    public var isAvailable: Bool { self == .available }

    /// Why Virtualize cannot run and the fix, in a sentence or two, for the wizard and the CLI.
    public var explanation: String {
        switch self {
        case .available:
            return "KVM is available on this host"
        case .paravirtualOnly:
            return "not available here: /dev/kvm is kvm-pvm (/sys/module/kvm_pvm), a paravirtual KVM that cannot run "
                + "unmodified guests such as SeaBIOS and boot loaders; run vmtui on a host with hardware KVM "
                + "(kvm_intel or kvm_amd loaded in place of kvm_pvm) or use Emulate"
        case .noHardwareSupport:
            return "not available here: the CPU shows no VT-x/AMD-V (no vmx/svm flag in /proc/cpuinfo); "
                + "use Emulate, or enable nested virtualization on the host"
        case .missingDevice:
            return "not available here: /dev/kvm is missing (modprobe kvm_intel or kvm_amd; "
                + "enable VT-x/AMD-V in the firmware); use Emulate meanwhile"
        case let .noPermission(user):
            return "not available here: /dev/kvm is not readable and writable by \(user); run as root, or grant access "
                + "(group kvm with a udev rule KERNEL==\"kvm\", GROUP=\"kvm\", MODE=\"0660\", then "
                + "sudo usermod -aG kvm \(user) and log in again); use Emulate meanwhile"
        case let .wrongAPIVersion(version):
            return "not available here: /dev/kvm speaks KVM API version \(version), vmtui needs 12 "
                + "(a kernel with the standard KVM); use Emulate"
        case .busy:
            return "not available here: KVM_CREATE_VM failed with EBUSY: another hypervisor (such as VirtualBox "
                + "or VMware) holds VT-x/AMD-V; quit it, or use Emulate"
        case let .notKVM(reason):
            return "not available here: \(reason); use Emulate"
        }
    }

    /// What `run` prints after the explanation: how to run the same VM on the software CPU.
    public static func emulateOffer(name: String?) -> String {
        guard let name else { return "to run it on the software CPU instead, add --mode emulate" }
        return "to run it on the software CPU instead: vmtui run \(name) --mode emulate "
            + "(or for good: vmtui set \(name) mode=emulate)"
    }
}
