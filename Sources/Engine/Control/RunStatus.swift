/// NAME.status: how a VM process ended, written by its monitor (only a parent can see a signal).
public struct RunStatus: Codable, Sendable, Equatable {
    public var pid: Int32
    public var exitCode: Int32?
    public var signal: Int32?
    /// Why the engine stopped, when the VM process got to say it.
    public var stop: MachineStop?

    public init(pid: Int32, exitCode: Int32?, signal: Int32?, stop: MachineStop?) {
        self.pid = pid
        self.exitCode = exitCode
        self.signal = signal
        self.stop = stop
    }

    /// "killed by signal 9" or "exited with status 3" when the process died without a stop reason.
    public var crash: String? {
        if let signal { return "killed by signal \(signal)" }
        if stop == nil { return "exited with status \(exitCode ?? -1)" }
        return nil
    }

    /// The state a client shows for the ended VM.
    public var state: VMState {
        .stopped(stop ?? .hostError("the VM process crashed: \(crash ?? "")"))
    }
}
