/// Why a CPU backend returned to the run loop.
public enum BackendExit: Equatable, Sendable {
    /// The instruction budget ran out; the loop services timers and calls again.
    case sliceExpired
    /// HLT with interrupts that can wake it; the loop may sleep until the next deadline.
    case halted
    /// HLT with IF=0 and no NMI: only a reset or power-off ends this.
    case haltedForever
    /// A triple fault (or an exception the backend cannot deliver): the machine shuts down.
    case tripleFault(String)
    /// The backend hit something it does not implement; the message says what.
    case unsupported(String)
}

/// The CPU backend the machine runs: the interpreter (Emulate) or KVM (Virtualize). Called
/// once per time slice, so a protocol costs nothing here (STYLE.md).
public protocol CPUBackend: AnyObject {
    /// Runs until about `instructions` guest instructions retire, or an exit.
    func run(instructions: Int) -> BackendExit
    /// Resets to the power-on state (CS:IP = F000:FFF0, CS base FFFF0000).
    func reset()
    /// Guest instructions retired since power-on (for MIPS figures and deterministic time).
    var instructionsRetired: UInt64 { get }
    /// Level of the INTR pin from the interrupt controller; sampled at instruction boundaries.
    var interruptController: InterruptAcknowledge? { get set }
}

/// The CPU's side of the PIC: whether INTR is asserted, and the INTA cycle returning a vector.
public protocol InterruptAcknowledge: AnyObject {
    var interruptPending: Bool { get }
    func acknowledgeInterrupt() -> UInt8
}
