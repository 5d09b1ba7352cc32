import CKVM
import Testing
@testable import Engine

/// The topology KVM's vCPUs are given, from a made-up KVM_GET_SUPPORTED_CPUID (no KVM needed):
/// cores of one socket as the interpreter's CPU model says, each vCPU with its own APIC ID.
@Suite struct KVMCPUIDTests {
    func leaf(_ function: UInt32, index: UInt32 = 0, ebx: UInt32 = 0, ecx: UInt32 = 0, edx: UInt32 = 0) -> kvm_cpuid_entry2 {
        var leaf = kvm_cpuid_entry2()
        leaf.function = function
        leaf.index = index
        leaf.ebx = ebx
        leaf.ecx = ecx
        leaf.edx = edx
        return leaf
    }

    var supported: [kvm_cpuid_entry2] {
        [leaf(1, ebx: 0x00FF_0800, edx: 1 << 28 | 1 << 9), leaf(0xB, index: 0), leaf(0xB, index: 1), leaf(0xB, index: 2),
         leaf(0x8000_0008, ecx: 0x3)]
    }

    func find(_ table: [kvm_cpuid_entry2], _ function: UInt32, _ index: UInt32 = 0) -> kvm_cpuid_entry2? {
        table.first { $0.function == function && $0.index == index }
    }

    @Test func fourCoresOfOneSocket() throws {
        let table = KVMCPUID.table(supported: supported, vcpuIndex: 2, cpuCount: 4)
        let one = try #require(find(table, 1))
        #expect(one.ebx == 0x0204_0800) // APIC ID 2, 4 logical processors, CLFLUSH size kept
        #expect(one.edx & 1 << 28 != 0 && one.ecx & 1 << 31 != 0)
        #expect(find(table, 0xB, 0).map { [$0.eax, $0.ebx, $0.ecx, $0.edx] } == [0, 1, 0x100, 2])
        #expect(find(table, 0xB, 1).map { [$0.eax, $0.ebx, $0.ecx, $0.edx] } == [2, 4, 0x201, 2])
        #expect(find(table, 0xB, 2).map { [$0.ebx, $0.ecx] } == [0, 2])
        #expect(find(table, 0x8000_0008)?.ecx == 0x2003)
    }

    @Test func oneCPUHasNoHTT() throws {
        let one = try #require(find(KVMCPUID.table(supported: supported, vcpuIndex: 0, cpuCount: 1), 1))
        #expect(one.ebx == 0x0000_0800 && one.edx & 1 << 28 == 0)
    }
}
