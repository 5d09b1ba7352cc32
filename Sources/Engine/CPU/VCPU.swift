/// One virtual CPU as the machine drives it: the interpreter (Emulate) and KVM (Virtualize)
/// both implement this, so the machine, its devices and its run loop never know which one
/// runs the guest. Called once per time slice, so a protocol costs nothing here (STYLE.md).
///
/// Threads: `run` is called only on the vCPU's own thread; `kick()` may be called from any
/// thread at any time and returns at once; `reset`, `startup` and `registers` are called only
/// while the vCPU is not inside `run` (the machine stops its vCPUs first).
public protocol VCPU: AnyObject {
    /// This vCPU's index in the machine (0 is the bootstrap processor).
    var index: Int { get }

    /// Runs the guest until the machine clock reaches `deadline` (nanoseconds), a kick, or an
    /// exit. The interpreter turns the deadline into an instruction budget; KVM runs until an
    /// exit or a kick (the host side fires timers and kicks when one is due).
    func run(until deadline: UInt64) -> VCPUExit

    /// Makes a running (or about to run) `run` return `.kicked` promptly. Any thread; never blocks.
    func kick()

    /// Power-on reset or INIT (SDM vol. 3 §9.1: INIT keeps x87/SSE state, the caches and MSRs
    /// other than the APIC base; an application processor then waits for a startup IPI).
    func reset(_ kind: VCPUResetKind)

    /// The interrupt controller's INTR output may have changed (the PIC pushes every change).
    /// Called with the machine lock held. The interpreter samples INTR at its next instruction
    /// boundary; a backend that injects on its own thread kicks it (the default).
    func interruptRequestChanged()

    /// A startup IPI: an application processor in wait-for-SIPI starts in real mode at
    /// `vector` << 12 (CS = vector << 8, IP = 0).
    func startup(vector: UInt8)

    /// The architectural registers, for crash dumps, debugging and (later) snapshots.
    var registers: VCPURegisters { get set }

    /// Guest instructions retired since power-on where the backend can count them (the
    /// interpreter; deterministic time depends on it), nil where it cannot (KVM).
    var instructionsRetired: UInt64? { get }
}

extension VCPU {
    public func interruptRequestChanged() { kick() }
}

public enum VCPUResetKind: Equatable, Sendable {
    case powerOn
    case initSignal
}

/// Why `VCPU.run` returned. Both backends report the same way.
public enum VCPUExit: Equatable, Sendable {
    /// The machine clock reached the deadline: the host side fires timers and calls again.
    case deadlineReached
    /// Another thread called `kick()` (a request, an earlier timer, an interrupt to deliver).
    case kicked
    /// HLT with interrupts that can wake it: the caller sleeps until a deadline or a kick.
    case halted
    /// HLT with IF = 0 and no NMI (or an AP waiting for SIPI): only a reset, INIT, SIPI or
    /// power-off ends this.
    case haltedForever
    /// A triple fault (shutdown): the machine stops and reports it.
    case shutdown(String)
    /// A port or MMIO access the host could not complete (the message names it).
    case ioError(String)
    /// The backend cannot go on (KVM internal error or failed entry, an unimplemented mode):
    /// the message says what, `registers` where the guest was.
    case internalError(String, registers: VCPURegisters?)
}

/// One segment register with its hidden part, in KVM's terms (`struct kvm_segment`).
public struct VCPUSegment: Equatable, Sendable {
    public var selector: UInt16 = 0
    public var base: UInt64 = 0
    /// Byte-granular limit (granularity already applied).
    public var limit: UInt32 = 0xFFFF
    /// Descriptor access byte (type, S, DPL, P) in bits 0-7 and AVL, L, D/B, G in bits 12-15,
    /// as descriptor bytes 5-6; an unusable (null) segment has `unusable` set.
    public var attributes: UInt16 = 0
    public var unusable = false

    public init(selector: UInt16 = 0, base: UInt64 = 0, limit: UInt32 = 0xFFFF, attributes: UInt16 = 0, unusable: Bool = false) {
        self.selector = selector
        self.base = base
        self.limit = limit
        self.attributes = attributes
        self.unusable = unusable
    }
}

/// The architectural state of one vCPU, 64 bits wide so that long mode fits.
public struct VCPURegisters: Equatable, Sendable {
    /// RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8-R15 (the x86 encoding order).
    public var gpr = [UInt64](repeating: 0, count: 16)
    public var rip: UInt64 = 0
    public var rflags: UInt64 = 0x2
    /// ES, CS, SS, DS, FS, GS (the x86 encoding order).
    public var segments = [VCPUSegment](repeating: VCPUSegment(), count: 6)
    public var ldtr = VCPUSegment()
    public var tr = VCPUSegment()
    public var gdtBase: UInt64 = 0
    public var gdtLimit: UInt16 = 0xFFFF
    public var idtBase: UInt64 = 0
    public var idtLimit: UInt16 = 0x3FF
    public var cr0: UInt64 = 0x6000_0010
    public var cr2: UInt64 = 0
    public var cr3: UInt64 = 0
    public var cr4: UInt64 = 0
    public var efer: UInt64 = 0

    public init() {}

    /// The registers as people read them in a crash report, one per line.
    public var dump: String {
        func hex(_ v: UInt64, _ digits: Int) -> String {
            let s = String(v, radix: 16, uppercase: true)
            return String(repeating: "0", count: max(0, digits - s.count)) + s
        }
        let wide = efer & 0x400 != 0 // EFER.LMA: show 64-bit registers
        let digits = wide ? 16 : 8
        let names = ["AX", "CX", "DX", "BX", "SP", "BP", "SI", "DI"]
        let prefix = wide ? "R" : "E"
        var lines: [String] = []
        for i in 0..<(wide ? 16 : 8) {
            let name = i < 8 ? prefix + names[i] : "R\(i)"
            lines.append("\(name) \(hex(gpr[i], digits))")
        }
        lines.append("\(prefix)IP \(hex(rip, digits))")
        lines.append("\(prefix)FLAGS \(hex(rflags, 8))")
        for (name, s) in zip(["ES", "CS", "SS", "DS", "FS", "GS"], segments) {
            lines.append("\(name) \(hex(UInt64(s.selector), 4)) base \(hex(s.base, digits)) limit \(hex(UInt64(s.limit), 8)) attr \(hex(UInt64(s.attributes), 4))")
        }
        lines.append("CR0 \(hex(cr0, 8)) CR2 \(hex(cr2, digits)) CR3 \(hex(cr3, digits)) CR4 \(hex(cr4, 8)) EFER \(hex(efer, 8))")
        lines.append("GDT \(hex(gdtBase, digits)) limit \(hex(UInt64(gdtLimit), 4)) IDT \(hex(idtBase, digits)) limit \(hex(UInt64(idtLimit), 4))")
        return lines.joined(separator: "\n")
    }
}
