import CKVM
import Foundation
import Synchronization

/// Installed once per process: the kick signal interrupts KVM_RUN (EINTR) and does nothing else.
private let kickHandlerInstalled: Bool = ckvm_install_kick_handler() == 0

/// One virtual CPU run by KVM (Virtualize). KVM_RUN on the mmapped `kvm_run`; port and MMIO
/// exits go to the same `PortMap` and `MemoryMap` the interpreter uses, with the machine lock
/// held: `run` is called with it and lets go of it only inside KVM_RUN. The PIC reaches the
/// in-kernel local APIC's LINT0 as ExtINT: its vector is injected with KVM_INTERRUPT when
/// `kvm_run` says the guest can take it, else an interrupt window is requested.
public final class KVMVCPU: VCPU {
    public let index: Int
    let vm: KVMVirtualMachine
    let fd: Int32
    let kvmRun: UnsafeMutablePointer<kvm_run>
    let ports: PortMap
    let memory: MemoryMap
    let clock: MachineClock
    /// The PIC's INTA side.
    let interrupts: InterruptAcknowledge
    /// The machine lock: held by the caller of `run`, released around KVM_RUN (MachineLock's rule).
    let lock: MachineLock
    /// CPUID leaf 1 EAX (family, model, stepping): EDX holds it after a reset.
    let signature: UInt32
    /// The local APIC as KVM created it (its power-on state), put back by every reset.
    var powerOnLAPIC = kvm_lapic_state()
    /// A reset or register write that failed outside `run`: the next `run` reports it.
    var pendingError: String?

    private let kickPending = Atomic<Bool>(false)
    /// The thread inside `run` (pthread_t), 0 while none is: `kick()` signals it.
    private let runningThread = Atomic<UInt>(0)
    private var stats = KVMExitStats()
    /// The thread the signal mask and the deadline timer were set up for.
    private var preparedThread: UInt = 0
    /// The deadline timer's kernel ID (ckvm_thread_timer_create).
    private var deadlineTimer: Int?

    /// vCPU `environment.index` of `vm`, on the environment's buses and interrupt controller.
    public init(vm: KVMVirtualMachine, environment: VCPUEnvironment) throws {
        guard kickHandlerInstalled else { throw KVMError.failed("sigaction for the vCPU kick signal") }
        self.vm = vm
        index = environment.index
        ports = environment.ports
        memory = environment.memory
        clock = environment.clock
        interrupts = environment.interrupts
        lock = environment.lock
        let cpuid = vm.system.supportedCPUID
        signature = cpuid.first { $0.function == 1 }?.eax ?? 0
        let vcpu = ckvm_ioctl_value(vm.fd, ckvm_create_vcpu(), UInt(environment.index))
        guard vcpu >= 0 else { throw KVMError.failed("KVM_CREATE_VCPU \(index)") }
        fd = vcpu
        guard let mapped = mmap(nil, vm.system.vcpuMapSize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0),
              mapped != MAP_FAILED else {
            close(vcpu)
            throw KVMError.failed("mmap of vCPU \(index)'s kvm_run")
        }
        kvmRun = mapped.bindMemory(to: kvm_run.self, capacity: 1)
        do {
            try setCPUID(cpuid, cpuCount: environment.cpuCount)
            try ioctl(ckvm_get_lapic(), &powerOnLAPIC, "KVM_GET_LAPIC")
            try powerOn()
        } catch {
            munmap(mapped, vm.system.vcpuMapSize)
            close(vcpu)
            throw error
        }
    }

    deinit {
        if let deadlineTimer { ckvm_timer_delete(deadlineTimer) }
        munmap(kvmRun, vm.system.vcpuMapSize)
        close(fd)
    }

    public var instructionsRetired: UInt64? { nil }

    // MARK: Running

    /// Runs until `deadline` on the machine clock (a timer signals this thread then), a kick,
    /// or an exit the machine must see. HLT stays in the kernel (its local APIC wakes it).
    public func run(until deadline: UInt64) -> VCPUExit {
        let thread = UInt(pthread_self())
        if preparedThread != thread {
            if let error = prepare(thread) { return .internalError(error, registers: registers) }
        }
        runningThread.store(thread, ordering: .sequentiallyConsistent)
        defer {
            runningThread.store(0, ordering: .sequentiallyConsistent)
            if let deadlineTimer { ckvm_timer_arm(deadlineTimer, 0) }
        }
        let now = clock.nanoseconds
        guard now < deadline else { return .deadlineReached }
        if deadline != .max, let deadlineTimer { ckvm_timer_arm(deadlineTimer, deadline - now) }
        while true {
            memory.publishRegionChanges() // the slots follow the last exit's PAM or VGA changes
            if let error = vm.slotError ?? pendingError { return .internalError(error, registers: registers) }
            if kickPending.exchange(false, ordering: .sequentiallyConsistent) {
                kvmRun.pointee.immediate_exit = 0
                return .kicked
            }
            offerInterrupt()
            let entered = KVMExitStats.enabled ? HostClock.monotonicNow() : 0
            if KVMExitStats.enabled { stats.entering(entered) }
            lock.unlock()
            let result = ckvm_ioctl_value(fd, ckvm_run(), 0)
            let returned = KVMExitStats.enabled ? HostClock.monotonicNow() : 0
            let runErrno = errno
            lock.lock()
            if KVMExitStats.enabled {
                stats.exited(reason: result < 0 ? nil : Int32(bitPattern: kvmRun.pointee.exit_reason), entered: entered,
                             returned: returned, locked: HostClock.monotonicNow(), vcpu: index)
            }
            if result < 0 {
                guard runErrno == EINTR || runErrno == EAGAIN else {
                    return .internalError(KVMError.failed("KVM_RUN").description, registers: registers)
                }
                // A kick (immediate_exit and the signal) or the deadline timer's signal.
                ckvm_consume_kick_signals()
                if KVMVCPU.trace { KVMVCPU.traceLine("kvm EINTR at \(clock.nanoseconds), deadline \(deadline), vCPU \(index)\n" + registers.dump) }
                kvmRun.pointee.immediate_exit = 0
                if kickPending.exchange(false, ordering: .sequentiallyConsistent) { return .kicked }
                if clock.nanoseconds >= deadline { return .deadlineReached }
                continue
            }
            if KVMVCPU.trace { traceExit() }
            if let exit = handleExit() { return exit }
        }
    }

    /// VMTUI_KVM_TRACE=1: every exit on stderr (debugging a guest under KVM is otherwise blind).
    static let trace = getenv("VMTUI_KVM_TRACE") != nil

    static func traceLine(_ line: String) {
        var line = line + "\n"
        line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
    }

    private func traceExit() {
        let run = kvmRun.pointee
        var line = "kvm exit \(run.exit_reason)"
        switch Int32(bitPattern: run.exit_reason) {
        case KVM_EXIT_IO: line += " io \(run.io.direction == UInt8(KVM_EXIT_IO_OUT) ? "out" : "in") port 0x\(String(run.io.port, radix: 16)) size \(run.io.size) count \(run.io.count)"
        case KVM_EXIT_MMIO: line += " mmio \(run.mmio.is_write != 0 ? "write" : "read") 0x\(String(run.mmio.phys_addr, radix: 16)) len \(run.mmio.len)"
        default: break
        }
        KVMVCPU.traceLine(line + " ready \(run.ready_for_interrupt_injection) if \(run.if_flag)")
    }

    /// On the first run on a thread: the kick signal blocked outside KVM_RUN, and a deadline
    /// timer that signals this thread.
    private func prepare(_ thread: UInt) -> String? {
        guard ckvm_block_kick_signal_for_run(fd) == 0 else { return KVMError.failed("KVM_SET_SIGNAL_MASK").description }
        if let deadlineTimer { ckvm_timer_delete(deadlineTimer) }
        deadlineTimer = nil
        let timer = ckvm_thread_timer_create()
        guard timer >= 0 else { return KVMError.failed("timer_create for the vCPU deadline").description }
        deadlineTimer = timer
        preparedThread = thread
        return nil
    }

    /// Any thread: ends `run` promptly. immediate_exit covers a vCPU about to enter KVM_RUN,
    /// the signal one already inside it (held pending until KVM_RUN if it comes earlier). The
    /// machine's vCPU threads outlive their `run` calls, so the thread signalled is alive. A
    /// kick from the vCPU's own thread (an exit arming an earlier timer) needs no signal: `run`
    /// looks at the flag before entering again.
    public func kick() {
        kickPending.store(true, ordering: .sequentiallyConsistent)
        UnsafeMutableRawPointer(kvmRun).storeBytes(of: 1, toByteOffset: MemoryLayout<kvm_run>.offset(of: \.immediate_exit)!, as: UInt8.self)
        let thread = runningThread.load(ordering: .sequentiallyConsistent)
        if thread != 0 && thread != UInt(pthread_self()) { pthread_kill(pthread_t(thread), ckvm_kick_signal()) }
    }

    /// INTR changed: `run` offers the PIC's vector before every KVM_RUN, so only the bootstrap
    /// processor (the PIC's only target) inside KVM_RUN on another thread needs a kick.
    public func interruptRequestChanged() {
        guard index == 0 else { return }
        let thread = runningThread.load(ordering: .sequentiallyConsistent)
        if thread != 0 && thread != UInt(pthread_self()) { kick() }
    }

    /// The exit KVM_RUN returned with: nil when handled here and the guest can go on.
    private func handleExit() -> VCPUExit? {
        switch Int32(bitPattern: kvmRun.pointee.exit_reason) {
        case KVM_EXIT_IO:
            handlePortIO()
            return nil
        case KVM_EXIT_MMIO:
            handleMMIO()
            return nil
        case KVM_EXIT_IRQ_WINDOW_OPEN, KVM_EXIT_INTR:
            return nil
        case KVM_EXIT_IOAPIC_EOI:
            vm.onIOAPICEOI(kvmRun.pointee.eoi.vector)
            return nil
        case KVM_EXIT_HLT:
            return .halted
        case KVM_EXIT_SHUTDOWN:
            return .shutdown("vCPU \(index) (KVM_EXIT_SHUTDOWN)\n" + registers.dump)
        case KVM_EXIT_FAIL_ENTRY:
            let reason = kvmRun.pointee.fail_entry.hardware_entry_failure_reason
            return .internalError("KVM could not enter the guest (KVM_EXIT_FAIL_ENTRY, hardware reason 0x\(String(reason, radix: 16)))",
                                  registers: registers)
        case KVM_EXIT_INTERNAL_ERROR:
            let suberror = kvmRun.pointee.internal.suberror
            let what = suberror == KVM_INTERNAL_ERROR_EMULATION ? "an instruction it could not emulate" : "suberror \(suberror)"
            return .internalError("KVM internal error: \(what) (KVM_EXIT_INTERNAL_ERROR)", registers: registers)
        case let reason:
            return .internalError("KVM exit \(reason) that vmtui does not handle", registers: registers)
        }
    }

    /// KVM_EXIT_IO: `count` accesses of `size` bytes each (REP INS/OUTS), at `data_offset`.
    private func handlePortIO() {
        let io = kvmRun.pointee.io
        let data = UnsafeMutableRawPointer(kvmRun) + Int(io.data_offset)
        let size = Int(io.size)
        for i in 0..<Int(io.count) {
            let item = data + i * size
            if io.direction == UInt8(KVM_EXIT_IO_OUT) {
                ports.write(io.port, width: size, value: KVMVCPU.load(item, size))
            } else {
                KVMVCPU.store(ports.read(io.port, width: size), item, size)
            }
        }
    }

    /// KVM_EXIT_MMIO: MMIO devices, writes to read-only slots (ROM, write-protected shadow RAM)
    /// and unassigned space; 8-byte accesses as two dwords. Above 4 GiB nothing answers.
    private func handleMMIO() {
        let address = kvmRun.pointee.mmio.phys_addr
        let length = Int(kvmRun.pointee.mmio.len)
        let write = kvmRun.pointee.mmio.is_write != 0
        withUnsafeMutableBytes(of: &kvmRun.pointee.mmio.data) { data in
            let base = data.baseAddress!
            for offset in stride(from: 0, to: length, by: 4) {
                let width = min(4, length - offset)
                let at = address + UInt64(offset)
                guard at + UInt64(width) <= 0x1_0000_0000 else {
                    if !write { KVMVCPU.store(PortMap.allOnes(width), base + offset, width) }
                    continue
                }
                if write {
                    memory.write(UInt32(at), width: width, value: KVMVCPU.load(base + offset, width))
                } else {
                    KVMVCPU.store(memory.read(UInt32(at), width: width), base + offset, width)
                }
            }
        }
    }

    /// Before entering: hand the PIC's interrupt to KVM if the guest can take it now (INTA only
    /// then, so the vector is not lost), else ask KVM to exit when it can. The PIC's INTR is
    /// wired to the bootstrap processor's LINT0 only, as on a PC.
    private func offerInterrupt() {
        guard index == 0, interrupts.interruptPending else {
            kvmRun.pointee.request_interrupt_window = 0
            return
        }
        guard kvmRun.pointee.ready_for_interrupt_injection != 0 else {
            kvmRun.pointee.request_interrupt_window = 1
            return
        }
        var interrupt = kvm_interrupt(irq: UInt32(interrupts.acknowledgeInterrupt()))
        // EEXIST: KVM still holds the previous ExtINT; ready_for_interrupt_injection said it did not.
        _ = ckvm_ioctl(fd, ckvm_interrupt(), &interrupt)
        kvmRun.pointee.request_interrupt_window = 0
    }

    private static func load(_ pointer: UnsafeMutableRawPointer, _ width: Int) -> UInt32 {
        switch width {
        case 1: return UInt32(pointer.load(as: UInt8.self))
        case 2: return UInt32(pointer.loadUnaligned(as: UInt16.self))
        default: return pointer.loadUnaligned(as: UInt32.self)
        }
    }

    private static func store(_ value: UInt32, _ pointer: UnsafeMutableRawPointer, _ width: Int) {
        switch width {
        case 1: pointer.storeBytes(of: UInt8(truncatingIfNeeded: value), as: UInt8.self)
        case 2: pointer.storeBytes(of: UInt16(truncatingIfNeeded: value), as: UInt16.self)
        default: pointer.storeBytes(of: value, as: UInt32.self)
        }
    }

    /// A vCPU ioctl that must succeed.
    func ioctl<T: BitwiseCopyable>(_ request: UInt, _ argument: inout T, _ name: String) throws {
        let result = withUnsafeMutableBytes(of: &argument) { ckvm_ioctl(fd, request, $0.baseAddress) }
        guard result == 0 else { throw KVMError.failed(name) }
    }
}
