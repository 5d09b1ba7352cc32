/// What a machine hands a vCPU it creates: the buses, the clock, the interrupt controller's
/// INTA side and the PC's x87 error latch. Backends take what they use (KVM needs no latch:
/// the kernel runs the x87) and never reach into the machine for more.
public struct VCPUEnvironment {
    public let index: Int
    /// How many vCPUs the machine has (CPUID's topology).
    public let cpuCount: Int
    public let memory: MemoryMap
    public let ports: PortMap
    public let clock: MachineClock
    /// Deterministic time is an interpreter feature: it advances `clock` (a ManualClock) itself.
    public let timeMode: Machine.TimeMode
    public let interrupts: InterruptAcknowledge
    public let coprocessorError: CoprocessorErrorLatch
    /// The machine lock `run(until:)` is called with: a backend that waits in the kernel
    /// (KVM_RUN) releases it around that wait (MachineLock says why).
    public let lock: MachineLock

    public init(index: Int, cpuCount: Int = 1, memory: MemoryMap, ports: PortMap, clock: MachineClock, timeMode: Machine.TimeMode,
                interrupts: InterruptAcknowledge, coprocessorError: CoprocessorErrorLatch, lock: MachineLock) {
        self.index = index
        self.cpuCount = cpuCount
        self.memory = memory
        self.ports = ports
        self.clock = clock
        self.timeMode = timeMode
        self.interrupts = interrupts
        self.coprocessorError = coprocessorError
        self.lock = lock
    }
}
