import CKVM

/// The CPUID table a KVM vCPU is given: what KVM_GET_SUPPORTED_CPUID says it can virtualize on
/// this host (long mode included where the host has it, kvmclock's leaves 0x40000000+), with
/// the topology of this machine as the interpreter's model has it (CPUModel.withLocalAPIC):
/// `cpuCount` cores of one socket, one thread each, vCPU `index` being APIC ID `index`.
enum KVMCPUID {
    static func table(supported: [kvm_cpuid_entry2], vcpuIndex: Int, cpuCount: Int) -> [kvm_cpuid_entry2] {
        let count = UInt32(max(1, min(cpuCount, 255)))
        let coreBits = UInt32(count > 1 ? 32 - (count - 1).leadingZeroBitCount : 0)
        let id = UInt32(vcpuIndex)
        return supported.map { leaf in
            var leaf = leaf
            switch leaf.function {
            case 1:
                // EBX: initial APIC ID in 31-24, logical processors per package in 23-16 (with HTT).
                leaf.ebx = leaf.ebx & 0x0000_FFFF | id << 24 | (count > 1 ? count << 16 : 0)
                leaf.edx = count > 1 ? leaf.edx | 1 << 28 : leaf.edx & ~(1 << 28)
                leaf.ecx |= 1 << 31 // running under a hypervisor
            case 0xB, 0x1F:
                // Level 0 (SMT): one thread; level 1 (core): the cores; then the null level.
                switch leaf.index {
                case 0: (leaf.eax, leaf.ebx, leaf.ecx) = (0, 1, 1 << 8)
                case 1: (leaf.eax, leaf.ebx, leaf.ecx) = (coreBits, count, 2 << 8 | 1)
                default: (leaf.eax, leaf.ebx, leaf.ecx) = (0, 0, leaf.index)
                }
                leaf.edx = id // x2APIC ID
            case 0x8000_0008:
                // AMD: cores per package - 1 in ECX 7-0, the APIC ID bits they take in 15-12.
                leaf.ecx = leaf.ecx & ~0xF0FF | coreBits << 12 | (count - 1)
            default:
                break
            }
            return leaf
        }
    }
}
