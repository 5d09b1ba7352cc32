import CKVM
import Foundation

/// An open /dev/kvm: the system-wide KVM calls (API version, VM creation, vCPU mapping size,
/// the CPUID KVM can virtualize).
public final class KVMSystem {
    let fd: Int32
    /// Bytes to mmap from a vCPU fd for its `kvm_run` (and the pages after it).
    let vcpuMapSize: Int
    /// KVM_GET_SUPPORTED_CPUID: every leaf KVM can give a guest, at most what the host CPU has.
    let supportedCPUID: [kvm_cpuid_entry2]

    /// Opens `devicePath` after the same detection the wizard and `run` use. kvm-pvm is refused
    /// unless `allowParavirtual` (its tiny-guest tests can run on it; SeaBIOS and boot loaders cannot).
    public init(devicePath: String = "/dev/kvm", moduleDirectory: String = "/sys/module",
                allowParavirtual: Bool = false) throws {
        let availability = KVMAvailability.probe(devicePath: devicePath, moduleDirectory: moduleDirectory)
        guard availability == .available || (availability == .paravirtualOnly && allowParavirtual) else {
            throw KVMError.unavailable(availability)
        }
        fd = open(devicePath, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { throw KVMError.failed("open \(devicePath)") }
        let size = ckvm_ioctl_value(fd, ckvm_get_vcpu_mmap_size(), 0)
        guard size >= MemoryLayout<kvm_run>.size else {
            close(fd)
            throw KVMError.failed("KVM_GET_VCPU_MMAP_SIZE")
        }
        vcpuMapSize = Int(size)
        do {
            supportedCPUID = try KVMSystem.supportedCPUID(fd)
        } catch {
            close(fd)
            throw error
        }
    }

    deinit { close(fd) }

    private static func supportedCPUID(_ fd: Int32) throws -> [kvm_cpuid_entry2] {
        var capacity: UInt32 = 128
        while true {
            guard let table = ckvm_cpuid2_alloc(capacity) else { throw KVMError("out of memory for the CPUID table") }
            defer { free(table) }
            if ckvm_ioctl(fd, ckvm_get_supported_cpuid(), table) == 0 {
                return Array(UnsafeBufferPointer(start: ckvm_cpuid2_entries(table), count: Int(table.pointee.nent)))
            }
            // E2BIG: the table did not fit; KVM has a few hundred leaves at most.
            guard errno == E2BIG, capacity < 4096 else { throw KVMError.failed("KVM_GET_SUPPORTED_CPUID") }
            capacity *= 2
        }
    }
}
