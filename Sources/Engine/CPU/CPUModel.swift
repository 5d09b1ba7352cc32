/// A CPU model as data: the CPUID leaves a vCPU reports. The interpreter answers CPUID from
/// its table; KVM intersects the same table with KVM_GET_SUPPORTED_CPUID (`restricted(to:)`).
/// A model reports only what its backend really implements.
public struct CPUModel: Equatable, Sendable {
    /// One CPUID leaf (EAX = function, ECX = index for the leaves that take one).
    public struct Leaf: Equatable, Sendable {
        public var function: UInt32
        public var index: UInt32
        public var eax: UInt32
        public var ebx: UInt32
        public var ecx: UInt32
        public var edx: UInt32

        public init(function: UInt32, index: UInt32 = 0, eax: UInt32, ebx: UInt32, ecx: UInt32, edx: UInt32) {
            self.function = function
            self.index = index
            self.eax = eax
            self.ebx = ebx
            self.ecx = ecx
            self.edx = edx
        }
    }

    public var leaves: [Leaf]

    public init(leaves: [Leaf]) { self.leaves = leaves }

    /// The answer to CPUID(function, index): leaves absent from the table read as zeros.
    public func cpuid(function: UInt32, index: UInt32 = 0) -> (eax: UInt32, ebx: UInt32, ecx: UInt32, edx: UInt32) {
        guard let leaf = leaves.first(where: { $0.function == function && $0.index == index })
                ?? leaves.first(where: { $0.function == function }) else { return (0, 0, 0, 0) }
        return (leaf.eax, leaf.ebx, leaf.ecx, leaf.edx)
    }

    /// Family, model and stepping (CPUID.1:EAX), which EDX holds after reset.
    public var signature: UInt32 { cpuid(function: 1).eax }

    /// Leaves whose EBX/ECX/EDX are feature bits (the others carry values, not flags).
    static let featureLeaves: Set<UInt32> = [1, 7, 0x8000_0001]

    /// This model on a host that supports only `supported` (KVM_GET_SUPPORTED_CPUID): feature
    /// bits are ANDed, the highest basic and extended leaf numbers are the smaller of the two, and
    /// feature leaves the host lacks go.
    public func restricted(to supported: [Leaf]) -> CPUModel {
        func host(_ l: Leaf) -> Leaf? { supported.first { $0.function == l.function && $0.index == l.index } }
        var result: [Leaf] = []
        for var leaf in leaves {
            let theirs = host(leaf)
            if leaf.function == 0 || leaf.function == 0x8000_0000 {
                leaf.eax = min(leaf.eax, theirs?.eax ?? leaf.function)
            } else if CPUModel.featureLeaves.contains(leaf.function) {
                guard let theirs else { continue }
                leaf.ebx &= leaf.function == 1 ? ~0 : theirs.ebx // leaf 1 EBX is a brand index and APIC ID
                leaf.ecx &= theirs.ecx
                leaf.edx &= theirs.edx
            }
            result.append(leaf)
        }
        return CPUModel(leaves: result)
    }

    /// This model with a local APIC, as CPU `apicID` of `cpuCount` cores in one socket, one
    /// thread each (Windows client editions count sockets): CPUID.1 gets the APIC bit, the
    /// initial APIC ID and, with several CPUs, HTT and the logical count; leaf 4 gives the cores
    /// per package (with an L1 data cache description, the leaf's required first entry); leaf
    /// 0xB the SMT and core levels. Leaves 4 and 0xB end with their null entries, since an
    /// absent index would read as index 0.
    public func withLocalAPIC(id apicID: UInt8, cpuCount: Int) -> CPUModel {
        var model = self
        let count = UInt32(max(1, min(cpuCount, 255)))
        let coreBits = UInt32(count > 1 ? 32 - (count - 1).leadingZeroBitCount : 0)
        let id = UInt32(apicID)
        for i in model.leaves.indices {
            switch model.leaves[i].function {
            case 0:
                model.leaves[i].eax = max(model.leaves[i].eax, 0xB)
            case 1:
                model.leaves[i].ebx = id << 24 | (count > 1 ? count << 16 : 0)
                model.leaves[i].edx |= 1 << 9 | (count > 1 ? 1 << 28 : 0)
            default:
                break
            }
        }
        model.leaves += [
            // L1 data cache, 8 ways x 64 sets x 64 bytes, self-initialising; one thread shares it.
            Leaf(function: 4, index: 0, eax: (count - 1) << 26 | 1 << 8 | 1 << 5 | 1, ebx: 7 << 22 | 63, ecx: 63, edx: 0),
            Leaf(function: 4, index: 1, eax: 0, ebx: 0, ecx: 0, edx: 0),
            Leaf(function: 0xB, index: 0, eax: 0, ebx: 1, ecx: 1 << 8, edx: id),
            Leaf(function: 0xB, index: 1, eax: coreBits, ebx: count, ecx: 2 << 8 | 1, edx: id),
            Leaf(function: 0xB, index: 2, eax: 0, ebx: 0, ecx: 2, edx: id),
        ]
        return model
    }

    /// What the interpreter implements: a family-6 Intel part (GenuineIntel, 6/3/3) with FPU,
    /// PSE, TSC, MSR, PAE, CX8, PGE, CMOV and FXSR in CPUID.1:EDX. No APIC, no MTRR
    /// (PLATFORM-NOTES §4.10), no SSE, no long mode, no hypervisor leaf; no extended leaves
    /// beyond 0x80000000.
    public static let interpreter = CPUModel(leaves: [
        Leaf(function: 0, eax: 1, ebx: 0x756E_6547, ecx: 0x6C65_746E, edx: 0x4965_6E69), // "Genu" "ntel" "ineI"
        Leaf(function: 1, eax: 0x0000_0633, ebx: 0, ecx: 0,
             edx: 1 << 0 | 1 << 3 | 1 << 4 | 1 << 5 | 1 << 6 | 1 << 8 | 1 << 13 | 1 << 15 | 1 << 24),
        Leaf(function: 0x8000_0000, eax: 0x8000_0000, ebx: 0, ecx: 0, edx: 0),
    ])
}
