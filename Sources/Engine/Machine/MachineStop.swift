/// Why a machine stopped running. Never a crash: guest and host failures end up here.
public enum MachineStop: Equatable, Sendable, Codable, CustomStringConvertible {
    /// The guest turned itself off (ACPI soft-off).
    case poweredOff
    /// vmtui cut the power: the user's forced power-off, or the power button with no OS answering.
    case powerCut
    /// The CPU could not deliver an exception (shutdown); QEMU would reset, we stop and report.
    case tripleFault(String)
    /// The guest reset itself over and over without getting anywhere.
    case resetLoop(count: Int)
    /// The CPU met an instruction or mode it does not implement.
    case unsupported(String)
    /// A host-side failure (disk I/O error, ...).
    case hostError(String)
    /// The guest wrote to the debug-exit port 0xF4.
    case debugExit(Int32)

    public var description: String {
        switch self {
        case .poweredOff: return "the guest powered off"
        case .powerCut: return "the power was cut (forced power-off)"
        case .tripleFault(let what): return "triple fault: \(what)"
        case .resetLoop(let n): return "the guest reset \(n) times in a row without booting (reset loop)"
        case .unsupported(let what): return "the CPU does not support what the guest did: \(what)"
        case .hostError(let what): return "host error: \(what)"
        case .debugExit(let code): return "the guest asked to exit with status \(code) (port 0xF4)"
        }
    }
}
