import CKVM

/// The CPUID table a KVM vCPU is given: what KVM_GET_SUPPORTED_CPUID says it can virtualize on
/// this host (long mode included where the host has it, kvmclock's leaves 0x40000000+), with
/// the topology of this machine: vCPU `index`'s APIC ID, one logical processor per package.
enum KVMCPUID {
    static func table(supported: [kvm_cpuid_entry2], vcpuIndex: Int) -> [kvm_cpuid_entry2] {
        supported.map { leaf in
            var leaf = leaf
            switch leaf.function {
            case 1:
                // EBX: initial APIC ID in 31-24, logical processors per package in 23-16.
                leaf.ebx = leaf.ebx & 0x0000_FFFF | UInt32(vcpuIndex) << 24 | 1 << 16
                leaf.edx &= ~(1 << 28) // HTT: one logical processor per package
                leaf.ecx |= 1 << 31 // running under a hypervisor
            case 0xB, 0x1F:
                leaf.edx = UInt32(vcpuIndex) // x2APIC ID
            default:
                break
            }
            return leaf
        }
    }
}
