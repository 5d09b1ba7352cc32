import Foundation
import Synchronization

/// One VM running in-process on its own engine thread: the facade the TUI drives. The Machine
/// lives only on that thread; everything here is thread-safe and returns at once: requests
/// are queued for the engine thread, and the screen, COM1 output, state and stats are published
/// by it. A guest or host failure stops the session with a reason; it never takes the caller down.
public final class VMSession: Sendable {
    public typealias Builder = @Sendable () throws -> Machine

    public let name: String
    /// How long an ACPI OS gets to shut down after the power button before the power is cut.
    public let powerButtonTimeout: Duration
    private let shared = Mutex(Shared())
    /// The running machine's lock, to wake its engine thread when a request or input arrives.
    private let machineLock = Mutex<MachineLock?>(nil)
    /// Rung at each publish that carries news: the control connections waiting for it.
    private let doorbells = Mutex<[Doorbell]>([])

    private struct Shared: Sendable {
        var state = VMState.starting
        var screen = TextScreen()
        var screenVersion: UInt64 = 0
        var serial = SerialScrollback()
        var serialVersion: UInt64 = 0
        /// Moves on any change above, state and stats included.
        var version: UInt64 = 0
        /// `version` at the last publish: the doorbells ring when it moved.
        var publishedVersion: UInt64 = 0
        var stats = VMStats()
        var warnings: [String] = []
        var keys: [UInt8] = []
        var serialInput: [UInt8] = []
        var requests: [Request] = []
        var mediaNotice: MediaNotice?
        var networkNotice: MediaNotice?
    }

    private enum Request: Sendable {
        case pause, resume, reset, powerButton, powerOff, changeISO(String?), switchNetwork(VMConfig.Network)
        case setPortForwards([VMConfig.PortForward])
    }

    /// What became of the last CD change or network switch: the new disc, an eject, the new
    /// network, or why it was refused.
    public struct MediaNotice: Sendable, Equatable {
        public var text: String
        public var isError: Bool

        public init(text: String, isError: Bool) {
            self.text = text
            self.isError = isError
        }
    }

    /// Starts assembling and running the machine `build` returns, on a new engine thread.
    public init(name: String, powerButtonTimeout: Duration = .seconds(10), build: @escaping Builder) {
        self.name = name
        self.powerButtonTimeout = powerButtonTimeout
        let thread = Thread { [self] in engineThread(build) }
        thread.name = "vmtui engine \(name)"
        thread.stackSize = 8 << 20
        thread.start()
    }

    /// A library VM: `Machine.assemble` with the interpreter, relative paths from `baseDirectory`.
    public convenience init(config: VMConfig, baseDirectory: String?, biosOverride: String? = nil,
                            timeMode: Machine.TimeMode = .realtime) {
        self.init(name: config.name) {
            try Machine.assemble(config: config, baseDirectory: baseDirectory, biosOverride: biosOverride, timeMode: timeMode)
        }
    }

    // MARK: What the engine publishes

    public var state: VMState { shared.withLock { $0.state } }
    public var stats: VMStats { shared.withLock { $0.stats } }
    /// Things the user should know that did not stop the machine (from Machine.warnings).
    public var warnings: [String] { shared.withLock { $0.warnings } }
    /// The outcome of the last `changeISO`, once the engine has done it.
    public var mediaNotice: MediaNotice? { shared.withLock { $0.mediaNotice } }
    /// The outcome of the last `switchNetwork`, once the backend has been swapped.
    public var networkNotice: MediaNotice? { shared.withLock { $0.networkNotice } }

    /// Bumps whenever the screen, state or stats change: redraw only when it moved.
    public var version: UInt64 { shared.withLock { $0.version } }

    /// The guest's latest text screen and its change counter.
    public func screen() -> (screen: TextScreen, version: UInt64) {
        shared.withLock { ($0.screen, $0.screenVersion) }
    }

    /// COM1 output as a terminal shows it, and a counter that moves when it changes.
    public func serial() -> (scrollback: SerialScrollback, version: UInt64) {
        shared.withLock { ($0.serial, $0.serialVersion) }
    }

    // MARK: Requests

    /// Types a key with its modifiers (make and break codes) on the guest keyboard.
    public func send(_ stroke: GuestKeyStroke) { send(scancodes: stroke.set2Bytes) }

    /// Raw set-2 scancodes for the i8042.
    public func send(scancodes: [UInt8]) {
        shared.withLock { if $0.state.isActive, $0.keys.count < 1 << 16 { $0.keys += scancodes } }
        wakeEngine()
    }

    /// Bytes for the guest to read from COM1.
    public func sendSerial(_ bytes: [UInt8]) {
        shared.withLock { if $0.state.isActive, $0.serialInput.count < 1 << 16 { $0.serialInput += bytes } }
        wakeEngine()
    }

    public func pause() { request(.pause) }
    public func resume() { request(.resume) }
    /// A hard reset, like the reset button.
    public func reset() { request(.reset) }
    public func sendCtrlAltDel() { send(GuestKeyStroke(.delete, ctrl: true, alt: true)) }

    /// Presses the ACPI power button; the power is cut at once when no ACPI OS listens for it,
    /// otherwise after `powerButtonTimeout` unless the guest has shut down by then.
    public func requestPowerOff() { request(.powerButton) }

    /// Cuts the power now.
    public func powerOff() { request(.powerOff) }

    /// Puts the ISO at `path` in the CD drive (nil ejects); the guest sees a media change. The
    /// result shows up in `mediaNotice`.
    public func changeISO(_ path: String?) { request(.changeISO(path)) }

    /// Plugs the running VM's network card into `mode` (a `network=` value: nat, bridge:IFACE,
    /// none); the outcome shows up in `networkNotice`.
    public func switchNetwork(to mode: String) {
        do {
            request(.switchNetwork(try VMConfig.parseNetwork(mode)))
        } catch {
            setNetworkNotice(MediaNotice(text: "\(error)", isError: true))
        }
    }

    /// Replaces NAT's port forwards (a `forwards=` value) while the VM runs; the outcome shows
    /// up in `networkNotice`.
    public func setPortForwards(_ forwards: String) {
        do {
            request(.setPortForwards(try VMConfig.parsePortForwards(forwards)))
        } catch {
            setNetworkNotice(MediaNotice(text: "\(error)", isError: true))
        }
    }

    private func setNetworkNotice(_ notice: MediaNotice) {
        shared.withLock {
            $0.networkNotice = notice
            $0.version &+= 1
        }
    }

    private func request(_ request: Request) {
        shared.withLock { if $0.state.isActive { $0.requests.append(request) } }
        wakeEngine()
    }

    /// The engine thread looks at the queues now, even from a halted guest's sleep.
    private func wakeEngine() { machineLock.withLock { $0 }?.wake() }

    /// Polls until the session has stopped; false on timeout.
    @discardableResult
    public func waitUntilStopped(timeout: Duration) -> Bool {
        let deadline = ContinuousClock.now + timeout
        while state.isActive {
            if ContinuousClock.now >= deadline { return false }
            Thread.sleep(forTimeInterval: 0.005)
        }
        return true
    }

    /// A doorbell rung whenever the session publishes news (nil when out of descriptors);
    /// `leave` it when done.
    func doorbell() -> Doorbell? {
        guard let bell = Doorbell() else { return nil }
        doorbells.withLock { $0.append(bell) }
        return bell
    }

    func leave(_ bell: Doorbell) { doorbells.withLock { $0.removeAll { $0 === bell } } }

    // MARK: Engine thread

    /// How often the screen is sampled (host time): fast enough for typing, cheap when still.
    private static let publishInterval: UInt64 = 10_000_000
    private static let statsInterval: UInt64 = 500_000_000

    private func engineThread(_ build: Builder) {
        let machine: Machine
        do {
            machine = try build()
        } catch {
            shared.withLock {
                $0.state = .stopped(.hostError("\(error)"))
                $0.version &+= 1
            }
            return
        }
        machine.com1.onTransmit = { [self] byte in
            shared.withLock {
                $0.serial.append(byte)
                $0.serialVersion &+= 1
                $0.version &+= 1
            }
        }
        shared.withLock {
            $0.warnings = machine.warnings
            $0.state = .running
            $0.version &+= 1
        }
        // A backend that could not open (a missing bridge, no TAP permission) also shows where a
        // network switch's answer would, so the console says it while the VM starts.
        if let problem = machine.warnings.first(where: { $0.hasPrefix("network: ") }) {
            setNetworkNotice(MediaNotice(text: problem, isError: true))
        }
        machineLock.withLock { $0 = machine.lock }
        defer { machineLock.withLock { $0 = nil } }
        var loop = EngineLoop(machine: machine) { [self] text, isError in
            setNetworkNotice(MediaNotice(text: text, isError: isError))
        }
        defer { machine.network?.close() }
        let runner = MachineRunner(machine: machine)
        _ = runner.run { stop in
            let (requests, keys, serialInput) = shared.withLock { s in
                defer { s.requests = []; s.keys = []; s.serialInput = [] }
                return (s.requests, s.keys, s.serialInput)
            }
            for request in requests {
                if let notice = loop.apply(request, timeout: powerButtonTimeout) {
                    shared.withLock {
                        $0.mediaNotice = notice
                        $0.version &+= 1
                    }
                }
            }
            loop.type(keys)
            if !serialInput.isEmpty {
                machine.com1.receive(serialInput)
                loop.expectEcho()
            }
            loop.tick()
            runner.paused = loop.paused
            let now = HostClock.monotonicNow()
            if stop != nil || !requests.isEmpty || loop.awaitingEcho(now: now) || now &- loop.lastPublish >= VMSession.publishInterval {
                publish(machine, loop: &loop, now: now, stop: stop)
            }
            return stop == nil
        }
    }

    private func publish(_ machine: Machine, loop: inout EngineLoop, now: UInt64, stop: MachineStop?) {
        loop.lastPublish = now
        let current: VMState = stop.map { .stopped($0) } ?? machine.hostDiskFull.map { .hostDiskFull(path: $0) }
            ?? (loop.paused ? .paused : .running)
        // A pause or resume publishes fresh stats together with the new state.
        let screen = machine.screen()
        let stats = loop.measure(now: now, force: stop != nil || current != state)
        let news = shared.withLock { s in
            if screen != s.screen {
                loop.echoDeadline = nil
                s.screen = screen
                s.screenVersion &+= 1
                s.version &+= 1
            }
            if current != s.state {
                s.state = current
                s.version &+= 1
            }
            if let stats, stats != s.stats {
                s.stats = stats
                s.version &+= 1
            }
            defer { s.publishedVersion = s.version }
            return s.version != s.publishedVersion // COM1 output moves it between publishes too
        }
        if news { doorbells.withLock { $0.forEach { $0.ring() } } }
    }

    /// The engine thread's private run state: pause, the power-button deadline and the stats window.
    private struct EngineLoop {
        let machine: Machine
        /// Told (on the network's I/O thread) how a network switch went.
        let networkSwitched: @Sendable (String, Bool) -> Void
        var paused = false
        var lastPublish: UInt64 = 0
        /// Until when the screen is looked at after every slice (`awaitingEcho`).
        var echoDeadline: UInt64?
        var powerOffDeadline: UInt64?
        /// Keys not yet given to the keyboard (a paste, a paused guest).
        private var keys = KeyFeeder()
        private var uptime: UInt64 = 0
        private var lastStep = HostClock.monotonicNow()
        private var window = (time: HostClock.monotonicNow(), cpu: EngineLoop.threadCPUTime(), instructions: UInt64(0),
                              perCPU: [UInt64](), threadCPU: [UInt64](), io: IOCounters.Totals())
        private var stats = VMStats()

        init(machine: Machine, networkSwitched: @escaping @Sendable (String, Bool) -> Void) {
            self.machine = machine
            self.networkSwitched = networkSwitched
        }

        /// Carries out a request; a CD change reports how it went.
        mutating func apply(_ request: Request, timeout: Duration) -> MediaNotice? {
            switch request {
            case .pause:
                paused = true
                (machine.clock as? HostClock)?.pause()
            case .resume:
                paused = false
                (machine.clock as? HostClock)?.resume()
                machine.retryStorage()
            case .reset:
                keys.clear()
                machine.reset()
            case .powerButton:
                machine.pm.pressPowerButton()
                if machine.pm.powerButtonEnabled {
                    let ns = UInt64(timeout.components.seconds) &* 1_000_000_000 &+ UInt64(timeout.components.attoseconds / 1_000_000_000)
                    powerOffDeadline = powerOffDeadline ?? HostClock.monotonicNow() &+ ns
                } else {
                    machine.powerOff() // nobody listens: no ACPI OS running
                }
            case .powerOff:
                machine.powerOff()
            case .changeISO(let path):
                do {
                    try machine.changeISO(path)
                    return MediaNotice(text: path.map { "CD: \(URL(fileURLWithPath: $0).lastPathComponent) inserted" } ?? "CD ejected",
                                       isError: false)
                } catch {
                    return MediaNotice(text: "\(error)", isError: true)
                }
            case .switchNetwork(let network):
                machine.switchNetwork(to: network, done: networkSwitched)
            case .setPortForwards(let forwards):
                machine.setPortForwards(forwards, done: networkSwitched)
            }
            return nil
        }

        /// Feeds the keyboard at typing pace; keys typed while paused wait.
        mutating func type(_ scancodes: [UInt8]) {
            keys.add(scancodes)
            if !paused, keys.feed(machine) { expectEcho() }
        }

        /// Input went to the guest: its answer is published as soon as it shows.
        mutating func expectEcho() { echoDeadline = HostClock.monotonicNow() &+ VMSession.publishInterval }

        /// A key event went to the guest lately and the screen has not changed since: look at
        /// the screen after every slice, so its echo shows at once instead of at the next sample.
        mutating func awaitingEcho(now: UInt64) -> Bool {
            guard let deadline = echoDeadline else { return false }
            if now < deadline { return true }
            echoDeadline = nil
            return false
        }

        /// After each slice (or paused wait): uptime, and the power button's deadline.
        mutating func tick() {
            let now = HostClock.monotonicNow()
            if let deadline = powerOffDeadline, now >= deadline { machine.powerOff() }
            if !paused, machine.hostDiskFull == nil { uptime &+= now &- lastStep }
            lastStep = now
        }

        /// New stats when the window is long enough (or `force`), else nil.
        mutating func measure(now: UInt64, force: Bool) -> VMStats? {
            let elapsed = now &- window.time
            guard force || elapsed >= VMSession.statsInterval else { return nil }
            let cpu = EngineLoop.threadCPUTime()
            let perCPU = machine.vcpus.compactMap(\.instructionsRetired)
            let instructions = perCPU.reduce(0, &+)
            let threadCPU = machine.vcpuThreadCPUTimes ?? []
            let io = machine.ioCounters.totals
            stats.countsInstructions = perCPU.count == machine.vcpus.count
            if elapsed > 0 {
                // Per vCPU, over the window; a vCPU thread started anew since counts from 0.
                let rates = { (now: [UInt64], then: [UInt64], scale: Double) in
                    now.count == then.count ? zip(now, then).map { Double($0 >= $1 ? $0 - $1 : $0) / Double(elapsed) * scale } : []
                }
                stats.mips = Double(instructions &- window.instructions) / Double(elapsed) * 1000
                stats.mipsPerCPU = rates(perCPU, window.perCPU, 1000)
                stats.cpuPercentPerCPU = rates(threadCPU, window.threadCPU, 100)
                stats.cpuPercent = Double(cpu &- window.cpu) / Double(elapsed) * 100 + stats.cpuPercentPerCPU.reduce(0, +)
                let perSecond = { (now: UInt64, then: UInt64) in Double(now &- then) / Double(elapsed) * 1e9 }
                stats.diskReadRate = perSecond(io.diskRead, window.io.diskRead)
                stats.diskWriteRate = perSecond(io.diskWritten, window.io.diskWritten)
                stats.networkReceiveRate = perSecond(io.networkReceived, window.io.networkReceived)
                stats.networkSendRate = perSecond(io.networkSent, window.io.networkSent)
            }
            stats.uptimeNanoseconds = uptime
            stats.instructionsRetired = instructions
            window = (now, cpu, instructions, perCPU, threadCPU, io)
            return stats
        }

        /// CPU time consumed by the calling thread.
        static func threadCPUTime() -> UInt64 { HostClock.nanoseconds(of: CLOCK_THREAD_CPUTIME_ID) ?? 0 }
    }
}
