#if canImport(Glibc)
import Glibc
#endif

/// A PC modelled on QEMU's i440FX + PIIX3 `pc` machine, assembled from a VMConfig: RAM, the
/// BIOS at 4 GiB - size with its PAM-controlled alias below 1 MiB, the chipset and ISA
/// devices, and its vCPUs from a factory (interpreter or KVM). `runSlice()` is the run loop
/// body: run the vCPU to the next timer deadline, fire timers, handle exits.
public final class Machine {
    public typealias VCPUFactory = (VCPUEnvironment) throws -> VCPU

    public enum TimeMode: Equatable, Sendable {
        /// Follows the host clock; a halted guest sleeps the host thread until its next timer.
        case realtime
        /// Time = instructions retired x this many ns (reproducible runs and tests).
        case deterministic(nanosecondsPerInstruction: UInt64)
    }

    public let config: VMConfig
    public let memory: MemoryMap
    public let ports = PortMap()
    public let clock: MachineClock
    public let scheduler: Scheduler
    /// The one machine lock: who may touch what, and when, is written in MachineLock.
    public let lock = MachineLock()
    /// Disk and network bytes moved for the guest (stats and `vmtui list` rates).
    public let ioCounters = IOCounters()
    /// Index 0 is the bootstrap processor; Emulate has `cpuCount` of them (Machine+SMP).
    public private(set) var vcpus: [VCPU] = []
    /// The vCPU whose turn it is (runSlice).
    private var turn = 0
    /// Virtualize: a thread per vCPU (Machine+VCPUThreads); nil where vCPUs take turns here.
    var vcpuThreads: VCPUThreads?
    public let timeMode: TimeMode

    public let pic = PIC8259Pair()
    /// Emulate's local APICs, IOAPIC and MSIs (Machine+APIC).
    public let apicBus = APICBus()
    public let ioapic: IOAPIC
    /// Every interrupt source names a GSI here; the PIIX3 (PIC side) is its sink.
    public let interrupts = InterruptRouter()
    public let pit: PIT8254
    public let cmos: CMOSRTC
    public let fwCfg = FwCfg()
    public let hostBridge: I440FX
    public let isaBridge = PIIX3ISA()
    public let ide: PIIX3IDE
    public let pm: PIIX4PM
    public let vga: VGA
    public let keyboardController: I8042
    public let com1: UART16550
    public let com2: UART16550
    public let dma: DMA8237
    public let fdc: FDC82077AA
    public let debugConsole = DebugConsole()
    public let post = POSTPort()
    public let debugExit = DebugExitPort()
    public let gpe = ACPIGPEBlock()
    public let systemControl: SystemControlPortA
    public let coprocessorError: CoprocessorErrorLatch
    /// The network card and its NAT or Bridge backend (Machine+Network); nil for network=none.
    public private(set) var network: NetworkAttachment?
    /// The CD-ROM on the IDE secondary master, present when the VM has a boot ISO.
    /// The CD/DVD drive on the secondary IDE master, empty when the VM has no ISO (as in QEMU).
    public let cdrom: ATAPICDROM
    /// The SATA controller at 00:04.0, present when a disk's interface is SATA.
    public internal(set) var ahci: AHCI?
    /// One virtio-blk function per virtio disk, from 00:05.0 on.
    public internal(set) var virtioDisks: [VirtioBlock] = []
    /// Set while a guest write waits for space on the host disk holding this image (paused).
    public internal(set) var hostDiskFull: String?

    private let bios: HostBuffer
    /// Things the user should know that did not stop the machine (e.g. a disk attached read-only).
    public private(set) var warnings: [String] = []

    public internal(set) var stopReason: MachineStop?
    /// True while the guest sits in HLT with interrupts off (only reset or power-off help).
    public private(set) var haltedForever = false
    /// True while the guest is halted waiting for an interrupt.
    public private(set) var idle = false
    public private(set) var resetCount = 0

    // Set by a vCPU's port write; the wake brings the machine's thread to them at once when
    // the vCPUs run on threads of their own.
    private var resetRequested = false { didSet { if resetRequested { lock.signalWake() } } }
    private var powerOffRequested = false { didSet { if powerOffRequested { lock.signalWake() } } }
    private var exitCode: Int32? { didSet { lock.signalWake() } }
    private var recentResets: [UInt64] = []

    /// Longest slice of machine time, so the caller regains control (screen, input, timeouts)
    /// even when no timer is armed. Slices otherwise end at the scheduler's next deadline.
    public var maxSliceNanoseconds: UInt64 = 10_000_000

    /// `baseDirectory` resolves relative image paths (the VM bundle); `unixTime` fixes the RTC
    /// (tests), default now.
    public init(config: VMConfig, firmware: Firmware, timeMode: TimeMode = .realtime,
                baseDirectory: String? = nil, unixTime: Int64? = nil, vcpuFactory: VCPUFactory) throws {
        guard MachineError.memoryRange.contains(config.memoryMiB) else { throw MachineError.memorySize(config.memoryMiB) }
        self.config = config
        self.timeMode = timeMode
        do {
            memory = try MemoryMap(ramSize: config.memoryMiB << 20)
        } catch {
            throw MachineError.memory("\(error)")
        }
        switch timeMode {
        case .realtime: clock = HostClock()
        case .deterministic: clock = ManualClock()
        }
        scheduler = Scheduler(clock: clock)
        bios = HostBuffer(count: firmware.bios.count, bytes: firmware.bios)
        hostBridge = I440FX(bus: PCIBus(memory: memory, ports: ports, interrupts: interrupts),
                            memory: memory, bios: bios, biosSize: firmware.bios.count)
        pit = PIT8254(clock: clock, irq0: interrupts.line(0))
        cmos = CMOSRTC(clock: clock, irq8: interrupts.line(8), unixTime: unixTime ?? Int64(time(nil)))
        ide = PIIX3IDE(ports: ports, memory: memory, irq14: interrupts.line(14), irq15: interrupts.line(15),
                       ioCounters: ioCounters)
        cdrom = ATAPICDROM(medium: nil)
        ide.secondary.attach(cdrom, slot: 0)
        pm = PIIX4PM(ports: ports, clock: clock)
        vga = VGA(memory: memory, romImage: firmware.vgaBios)
        keyboardController = I8042(memory: memory, irq1: interrupts.line(1), irq12: interrupts.line(12))
        com1 = UART16550(base: 0x3F8, irq: interrupts.line(4))
        com2 = UART16550(base: 0x2F8, irq: interrupts.line(3))
        dma = DMA8237(memory: memory)
        fdc = FDC82077AA(dma: dma, irq6: interrupts.line(6))
        systemControl = SystemControlPortA(memory: memory)
        coprocessorError = CoprocessorErrorLatch(irq13: interrupts.line(13))
        ioapic = IOAPIC(bus: apicBus)
        vcpus = try (0..<config.cpuCount).map { index in
            try vcpuFactory(VCPUEnvironment(index: index, cpuCount: config.cpuCount, memory: memory, ports: ports, clock: clock, timeMode: timeMode,
                                            interrupts: pic, coprocessorError: coprocessorError, lock: lock))
        }

        wire()
        try wireAPICs()
        wireTime()
        try attachMedia(baseDirectory: baseDirectory)
        network = try attachNetwork()
        warnings += network?.start().map { "network: " + $0 } ?? []
        configureFirmwareTables()
        reset()
    }

    private func wire() {
        isaBridge.pic = pic
        interrupts.addSink(isaBridge)
        pm.interrupts = interrupts
        hostBridge.attach(isaBridge, device: 1, function: 0)
        hostBridge.attach(ide, device: 1, function: 1)
        hostBridge.attach(pm, device: 1, function: 3)
        hostBridge.attach(vga, device: 2)
        ports.register(hostBridge, ports: 0xCF8...0xCF8)
        ports.register(isaBridge, ports: 0xCF9...0xCF9)
        ports.register(hostBridge, ports: 0xCFC...0xCFF)
        ports.register(dma, ports: 0x00...0x0F)
        ports.register(dma, ports: 0x81...0x8F)
        ports.register(dma, ports: 0xC0...0xDF)
        ports.register(pic, ports: 0x20...0x21)
        ports.register(pic, ports: 0xA0...0xA1)
        ports.register(pic, ports: 0x4D0...0x4D1)
        ports.register(pit, ports: 0x40...0x43)
        ports.register(pit, ports: 0x61...0x61)
        ports.register(keyboardController, ports: 0x60...0x60)
        ports.register(keyboardController, ports: 0x64...0x64)
        ports.register(cmos, ports: 0x70...0x71)
        ports.register(post, ports: 0x80...0x80)
        ports.register(systemControl, ports: 0x92...0x92)
        ports.register(coprocessorError, ports: 0xF0...0xF0)
        ports.register(debugExit, ports: 0xF4...0xF4)
        ports.register(debugConsole, ports: 0x402...0x402)
        ports.register(debugConsole, ports: 0xE9...0xE9)
        ports.register(fwCfg, ports: 0x510...0x511)
        ports.register(gpe, ports: ACPIGPEBlock.portRange)
        ports.register(fdc, ports: 0x3F0...0x3F5)
        ports.register(fdc, ports: 0x3F7...0x3F7)
        ports.register(com1, ports: com1.portRange)
        ports.register(com2, ports: com2.portRange)
        for range in VGA.portRanges { ports.register(vga, ports: range) }
        scheduler.add(pit)
        scheduler.add(cmos)

        // The request ends the slice at once: no guest instruction runs after the write that
        // asked (SeaBIOS's reboot writes CF9, then triple-faults on purpose if nothing happened).
        isaBridge.onReset = { [unowned self] in resetRequested = true; endSlice() }
        systemControl.onReset = { [unowned self] in resetRequested = true; endSlice() }
        keyboardController.onReset = { [unowned self] in resetRequested = true; endSlice() }
        pm.onPowerOff = { [unowned self] in powerOffRequested = true; endSlice() }
        debugExit.onExit = { [unowned self] code in exitCode = code; endSlice() }
    }

    /// Every vCPU leaves its run at the next instruction boundary; `handleRequests` acts.
    func endSlice() {
        for vcpu in vcpus { vcpu.kick() }
    }

    /// Time has one owner: a slice ends at the scheduler's next deadline; a device arming an
    /// earlier timer, or a change of the PIC's INTR, reaches the vCPU at once (a kick, or the
    /// end of a halted sleep).
    private func wireTime() {
        // vCPUs on threads of their own hold the lock only to handle an exit: no kick needed.
        lock.onContention = { [unowned self] in if vcpuThreads == nil { endSlice() } }
        scheduler.onEarlierDeadline = { [unowned self] in
            // Turns: only during one, on this thread (the others are not running). Threads: the
            // bootstrap processor's thread fires the timers (VCPUThreads).
            guard vcpuThreads == nil else { return vcpus[0].kick() }
            vcpus[turn].kick()
            lock.signalWake()
        }
        pic.onOutputChange = { [unowned self] level in
            for vcpu in vcpus { vcpu.interruptRequestChanged() }
            if level && vcpuThreads == nil { lock.signalWake() } // threads: the BSP takes INTR itself
        }
    }

    func resolve(_ path: String, _ base: String?) -> String {
        guard let base, !path.hasPrefix("/") else { return path }
        return base + "/" + path
    }

    private func attachMedia(baseDirectory: String?) throws {
        if let floppy = config.floppyImage {
            let path = resolve(floppy, baseDirectory)
            let disk = try openWritable(path)
            guard let geometry = FloppyGeometry.forImage(size: disk.size) else {
                throw MachineError.floppySize(path: path, size: disk.size)
            }
            fdc.insert(disk)
            cmos.setByte(0x10, geometry.cmosType << 4)
        }
        try attachDisks(baseDirectory: baseDirectory)
        if let iso = config.bootISO { cdrom.load(try openISO(resolve(iso, baseDirectory))) }
    }

    /// Opens a disk or floppy image of any format read/write, or read-only (with a warning) when
    /// the file does not allow writing.
    func openWritable(_ path: String) throws -> any DiskImageFile {
        do {
            return try DiskImage.open(path: path, readOnly: false)
        } catch {
            guard access(path, R_OK) == 0, access(path, W_OK) != 0,
                  let image = try? DiskImage.open(path: path, readOnly: true) else {
                throw MachineError.storage(error.description)
            }
            warnings.append("\(path) is not writable: attached read-only, guest writes to it will fail")
            return image
        }
    }

    /// Opens a CD image read-only after checking it is a whole ISO 9660 image.
    private func openISO(_ path: String) throws(MachineError) -> any DiskImageFile {
        func bad(_ problem: String) -> MachineError { .bootISO(vm: config.name, path: path, problem: problem) }
        guard access(path, F_OK) == 0 else { throw bad("does not exist (moved or deleted?)") }
        do {
            let disc = try DiskImage.open(path: path, readOnly: true)
            if let problem = try ISO9660.problem(with: disc) { throw bad(problem) }
            return disc
        } catch let error as StorageError {
            throw bad(error.problem)
        } catch {
            throw error as! MachineError
        }
    }

    /// Puts another ISO in the CD-ROM drive of a running machine (nil ejects); the guest sees a
    /// media change. Call between slices, on the thread that runs the machine.
    public func changeISO(_ path: String?) throws(MachineError) {
        cdrom.insert(try path.map { (path) throws(MachineError) in try openISO(path) })
    }

    /// CMOS bytes and fw_cfg files SeaBIOS reads (PLATFORM-NOTES §2.3-2.6).
    private func configureFirmwareTables() {
        let ram = UInt64(memory.ramSize)
        let extendedKiB = min(0xFFFF, max(0, (ram >> 10) - 1024))
        let above16M = min(0xFFFF, ram > 16 << 20 ? (ram - (16 << 20)) >> 16 : 0)
        for (reg, value) in [(0x15, UInt64(640)), (0x17, extendedKiB), (0x30, extendedKiB), (0x34, above16M)] {
            cmos.setByte(reg, UInt8(value & 0xFF))
            cmos.setByte(reg + 1, UInt8(value >> 8))
        }
        cmos.setByte(0x14, (fdc.driveA.disk != nil ? 0x01 : 0) | 0x06)
        cmos.setByte(0x5F, UInt8(vcpus.count - 1))
        let codes: [VMConfig.BootDevice: UInt8] = [.floppy: 1, .disk: 2, .cdrom: 3]
        let order = config.bootOrder.compactMap { codes[$0] } + [0, 0, 0]
        cmos.setByte(0x3D, order[0] | order[1] << 4)
        cmos.setByte(0x38, order[2] << 4) // bit 0 clear: check the boot signature

        fwCfg.addFile("etc/e820", FwCfg.e820([(0, ram, 1)]))
        let paths: [VMConfig.BootDevice: String] = [
            .floppy: "/pci@i0cf8/isa@1/fdc@03f0/floppy@0",
            .cdrom: "/pci@i0cf8/ide@1,1/drive@1/disk@0",
        ]
        // HALT ends the list: SeaBIOS boots only the devices listed (QEMU's -boot strict=on), so
        // boot=disk never falls back to the CD or the floppy. Disks not to boot from follow HALT:
        // in strict mode SeaBIOS sets up a virtio disk only when the list names it.
        let boot = config.bootOrder.flatMap { $0 == .disk ? diskBootPaths : paths[$0].map { [$0] } ?? [] }
        let bootorder = (boot + ["HALT"] + diskBootPaths.filter { !boot.contains($0) }).joined(separator: "\n")
        fwCfg.addFile("bootorder", Array(bootorder.utf8) + [0])
        fwCfg.addFile("etc/boot-fail-wait", FwCfg.le32(0xFFFF_FFFF)) // never retry, as QEMU
        fwCfg.setItem(0x05, [UInt8(vcpus.count & 0xFF), UInt8(vcpus.count >> 8)]) // NB_CPUS
        fwCfg.setItem(0x0F, [UInt8(vcpus.count & 0xFF), UInt8(vcpus.count >> 8)]) // MAX_CPUS
        warnings += Machine.cpuCountWarnings(config)
        fwCfg.setItem(0x0E, [0, 0]) // no boot menu
    }

    // MARK: Control

    /// A hard reset: CPU and chipset to power-on state (PAM back to ROM, as real hardware).
    public func reset() {
        vcpuThreads?.hold()
        defer { vcpuThreads?.release(clearingExits: true) }
        for vcpu in vcpus { vcpu.reset(.powerOn) }
        hostBridge.reset()
        isaBridge.reset()
        ide.reset()
        cdrom.reset()
        resetStorage()
        pm.reset()
        gpe.reset()
        vga.reset()
        pic.reset()
        ioapic.reset()
        pit.reset()
        cmos.reset()
        fwCfg.reset()
        keyboardController.reset()
        com1.reset()
        com2.reset()
        dma.reset()
        fdc.reset()
        systemControl.reset()
        coprocessorError.reset()
        network?.reset()
        resetRequested = false
        haltedForever = false
        idle = false
    }

    /// Cuts the power for good (a forced power-off, Ctrl-C); the guest gets no say.
    public func powerOff() {
        if stopReason == nil { stopReason = .powerCut }
    }

    public func screen() -> TextScreen { vga.screen() }

    /// Queues key events (set-2 scancodes) for the guest keyboard.
    public func inject(scancodes: [UInt8]) { keyboardController.inject(scancodes: scancodes) }

    /// Instructions the vCPUs retired since power-on; 0 where the backend cannot count (KVM).
    public var instructionsRetired: UInt64 { vcpus.reduce(0) { $0 &+ ($1.instructionsRetired ?? 0) } }

    // MARK: Run loop

    /// Runs one slice of guest time, each vCPU in turn (Machine+SMP says why and what it costs);
    /// returns the stop reason once the machine has stopped. Call with the machine lock held
    /// (MachineRunner does); when every vCPU is halted, a realtime machine sleeps on it.
    @discardableResult
    public func runSlice() -> MachineStop? {
        if let stop = stopReason { return stop }
        if let vcpuThreads { return runThreadedSlice(vcpuThreads) }
        var halted = 0, haltedForever = 0
        let retiredBefore = instructionsRetired
        for (index, vcpu) in vcpus.enumerated() where stopReason == nil {
            turn = index
            applyStartupSignals(vcpu)
            let exit = vcpu.run(until: turnDeadline())
            scheduler.sliceDeadline = 0 // between turns the next one looks at the timers itself
            scheduler.fireDue()
            switch exit {
            case .halted:
                halted += 1
            case .haltedForever:
                halted += 1
                haltedForever += 1
            default:
                record(exit)
            }
        }
        idle = halted == vcpus.count
        self.haltedForever = haltedForever == vcpus.count
        // A slice in which the guest worked before halting returns without sleeping, so the
        // caller sees what it did (a key's echo on the screen) now, not after the next timer;
        // the slice after it, halted from the start, sleeps.
        if idle && stopReason == nil && instructionsRetired == retiredBefore { waitForNextEvent() }
        handleRequests()
        return stopReason
    }

    /// What a vCPU's exit means for the machine: a stop for the fatal ones.
    func record(_ exit: VCPUExit) {
        switch exit {
        case .deadlineReached, .kicked, .halted, .haltedForever:
            break
        case .shutdown(let what):
            stopReason = .tripleFault(what)
        case .ioError(let what):
            stopReason = .hostError(what)
        case .internalError(let what, let registers):
            stopReason = .unsupported(what + (registers.map { "\n" + $0.dump } ?? ""))
        }
    }

    /// A halted vCPU: time passes to the next timer, a wake (an interrupt, an earlier timer,
    /// another thread's request) or `maxSliceNanoseconds`; realtime sleeps on the machine lock's
    /// condition, deterministic time jumps.
    func waitForNextEvent() {
        let now = clock.nanoseconds
        let target = min(scheduler.nextDeadline() ?? .max, now &+ maxSliceNanoseconds)
        guard target > now else { return }
        if let manual = clock as? ManualClock {
            manual.set(target)
        } else {
            scheduler.sliceDeadline = target
            lock.wait(untilHostTime: HostClock.monotonicNow() &+ (target - now))
            scheduler.sliceDeadline = 0
        }
        scheduler.fireDue()
    }

    func handleRequests() {
        if let code = exitCode, stopReason == nil { stopReason = .debugExit(code) }
        if powerOffRequested, stopReason == nil { stopReason = .poweredOff }
        guard resetRequested, stopReason == nil else { return }
        resetCount += 1
        let now = clock.nanoseconds
        recentResets = recentResets.filter { now &- $0 < 5_000_000_000 } + [now]
        if recentResets.count >= 10 {
            stopReason = .resetLoop(count: recentResets.count)
            return
        }
        reset()
    }
}
