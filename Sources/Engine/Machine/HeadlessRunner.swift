import Foundation

/// Runs a machine without a display until a condition: text on the VGA screen or COM1, a
/// timeout, the guest stopping, or Ctrl-C. The primitive `vmtui run --headless` and guest tests use.
public final class HeadlessRunner {
    public struct Options: Sendable {
        public var untilText: [String] = []
        public var timeoutSeconds: Double?
        /// Guest COM1 output goes to stdout, stdin goes to COM1.
        public var serialStdio = false
        public var debugconPath: String?
        /// Keys to type (set-2 scancodes) once the text `typeAfter` appears (or at start).
        public var typeScancodes: [UInt8] = []
        public var typeAfter: String?
        public init() {}
    }

    public enum Outcome: Equatable, Sendable {
        case matched(String)
        case timedOut
        case stopped(MachineStop)
        case interrupted

        /// Process exit status: 0 success, 1 guest/test failure; a debug-exit code passes through.
        public func exitStatus(waitedForText: Bool) -> Int32 {
            switch self {
            case .matched: return 0
            case .timedOut: return 1
            case .interrupted: return 130
            case .stopped(.poweredOff), .stopped(.powerCut): return waitedForText ? 1 : 0
            case .stopped(.debugExit(let code)): return code
            case .stopped: return 1
            }
        }
    }

    public let machine: Machine
    public let options: Options
    private let stdinBytes = ByteQueue()
    private var debugcon: FileHandle?
    private var terminal: TerminalRawMode?
    private var typed = false
    /// The latest COM1 output, which --until-text and --type-after watch as well as the screen.
    private let serialTail = SerialTail()

    public init(machine: Machine, options: Options) throws {
        self.machine = machine
        self.options = options
        if let path = options.debugconPath {
            guard FileManager.default.createFile(atPath: path, contents: nil),
                  let handle = FileHandle(forWritingAtPath: path) else {
                throw MachineError.storage("cannot create the debug console file \(path)")
            }
            debugcon = handle
            machine.debugConsole.sink = { byte in handle.write(Data([byte])) }
        }
        let toStdout = options.serialStdio
        let tail = serialTail
        tail.keep = max(4096, 2 * (options.untilText + [options.typeAfter ?? ""]).map(\.utf8.count).max()!)
        machine.com1.onTransmit = { byte in
            tail.append(byte)
            if toStdout { FileHandle.standardOutput.write(Data([byte])) }
        }
        if options.serialStdio {
            terminal = TerminalRawMode()
            startStdinReader()
        }
    }

    private func startStdinReader() {
        let thread = Thread { [stdinBytes] in
            while true {
                let data = FileHandle.standardInput.availableData
                if data.isEmpty { return }
                stdinBytes.append([UInt8](data))
            }
        }
        thread.start()
    }

    /// Runs until an outcome; the machine is left stopped or as it was at the match.
    public func run() -> Outcome {
        let start = HostClock.monotonicNow()
        var lastCheck: UInt64 = 0
        if options.typeAfter == nil { typeKeys() }
        while true {
            if let stop = machine.runSlice() { return finish(.stopped(stop)) }
            let input = stdinBytes.drain()
            if !input.isEmpty { machine.com1.receive(input) }
            let now = HostClock.monotonicNow()
            // The screen is checked every 5 ms of host time: cheap, and fast enough for tests.
            guard now &- lastCheck >= 5_000_000 else { continue }
            lastCheck = now
            if HostInterrupt.requested {
                machine.powerOff()
                return finish(.interrupted)
            }
            let screen = machine.screen()
            let serial = serialTail.text
            let shows = { (text: String) in screen.contains(text) || serial.contains(text) }
            if let trigger = options.typeAfter, !typed, shows(trigger) { typeKeys() }
            if let text = options.untilText.first(where: shows) { return finish(.matched(text)) }
            if let limit = options.timeoutSeconds, Double(now &- start) / 1e9 >= limit { return finish(.timedOut) }
        }
    }

    private func typeKeys() {
        typed = true
        if !options.typeScancodes.isEmpty { machine.inject(scancodes: options.typeScancodes) }
    }

    private func finish(_ outcome: Outcome) -> Outcome {
        terminal?.restore()
        try? debugcon?.synchronize()
        return outcome
    }

    /// The report printed when the machine stopped on its own or timed out.
    public func report(_ outcome: Outcome) -> String {
        switch outcome {
        case .matched(let text): return "found \"\(text)\" on the screen or COM1"
        case .timedOut: return "timed out after \(options.timeoutSeconds ?? 0) s" + (options.untilText.isEmpty ? "" : " waiting for " + options.untilText.map { "\"\($0)\"" }.joined(separator: " or "))
        case .interrupted: return "interrupted: powered off"
        case .stopped(let stop): return "machine stopped: \(stop)"
        }
    }
}
