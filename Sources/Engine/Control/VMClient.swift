import Foundation
import Synchronization

/// A VM running in its own process, seen through its control socket: the same surface as an
/// in-process `VMSession`. A reader thread keeps a copy of the screen, COM1 output, state and
/// stats; requests are written at once. When the VM process ends, the state becomes what its
/// monitor recorded (a stop reason, or "killed by signal 9").
public final class VMClient: VMControl {
    public let name: String
    public let powerButtonTimeout: Duration
    public let warnings: [String]
    private let socket: UnixSocket
    private let run: RunDirectory
    private let shared = Mutex(Shared())
    private let writer = Mutex(())
    private let onSerial: (@Sendable ([UInt8]) -> Void)?

    private struct Shared {
        var state = VMState.starting
        var stats = VMStats()
        var screen = TextScreen()
        var screenVersion: UInt64 = 0
        var serial = SerialScrollback()
        var serialVersion: UInt64 = 0
        var version: UInt64 = 0
        var mediaNotice: VMSession.MediaNotice?
        var networkNotice: VMSession.MediaNotice?
        var crash: String?
        var connected = true
        var closing = false
    }

    /// Connects to NAME's socket in `run` and says hello; throws when nothing listens there or
    /// the VM refuses (another protocol version, another user). `onSerial` gets COM1 output as it
    /// arrives, on the reader thread (`vmtui console`).
    public init(name: String, run: RunDirectory, timeout: Duration = .seconds(5),
                onSerial: (@Sendable ([UInt8]) -> Void)? = nil) throws {
        let socket = try UnixSocket.connect(path: run.socket(name))
        socket.setSendTimeout(seconds: 5)
        // A VM refusing this user answers and closes at once, maybe before the hello goes out:
        // its answer is read even when this write fails.
        _ = socket.write(ControlMessage.hello(version: ControlMessage.version).frame())
        var framer = ControlFramer()
        let welcome = try VMClient.awaitWelcome(socket, &framer, timeout: timeout, name: name)
        self.name = welcome.name
        self.socket = socket
        self.run = run
        self.onSerial = onSerial
        powerButtonTimeout = .seconds(Int(welcome.powerButtonSeconds))
        warnings = welcome.warnings
        let start = framer
        let thread = Thread { [self] in read(start) }
        thread.name = "vmtui client \(name)"
        thread.start()
    }

    private static func awaitWelcome(_ socket: UnixSocket, _ framer: inout ControlFramer, timeout: Duration,
                                     name: String) throws -> ControlMessage.Welcome {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let body = try framer.next() {
                switch try ControlMessage.decode(body) {
                case .welcome(let welcome): return welcome
                case .error(let text): throw ControlProtocolError.refused("\(name): the VM refused the connection: \(text)")
                default: throw ControlProtocolError.malformed("the VM did not answer the hello with a welcome")
                }
            }
            let left = deadline - ContinuousClock.now
            guard left > .zero, socket.waitReadable(milliseconds: Int32(left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000)) else {
                throw ControlProtocolError.closed("\(name): the VM process did not answer within \(timeout)")
            }
            let bytes = socket.read()
            guard !bytes.isEmpty else { throw ControlProtocolError.closed("\(name): the VM process closed the connection") }
            framer.append(bytes)
        }
    }

    // MARK: What the VM publishes

    public var state: VMState { shared.withLock { $0.state } }
    public var stats: VMStats { shared.withLock { $0.stats } }
    public var mediaNotice: VMSession.MediaNotice? { shared.withLock { $0.mediaNotice } }
    /// The answer to the last network switch.
    public var networkNotice: VMSession.MediaNotice? { shared.withLock { $0.networkNotice } }
    public var version: UInt64 { shared.withLock { $0.version } }
    /// How the VM process died ("killed by signal 9"), when it did not stop on its own.
    public var crash: String? { shared.withLock { $0.crash } }
    /// False once the VM process has gone (or `close` was called).
    public var isConnected: Bool { shared.withLock { $0.connected } }

    public func screen() -> (screen: TextScreen, version: UInt64) { shared.withLock { ($0.screen, $0.screenVersion) } }
    public func serial() -> (scrollback: SerialScrollback, version: UInt64) { shared.withLock { ($0.serial, $0.serialVersion) } }

    // MARK: Requests

    public func send(_ stroke: GuestKeyStroke) { send(scancodes: stroke.set2Bytes) }
    public func send(scancodes: [UInt8]) { send(.keys(scancodes)) }
    public func sendSerial(_ bytes: [UInt8]) { send(.serialInput(bytes)) }
    public func pause() { send(.request(.pause)) }
    public func resume() { send(.request(.resume)) }
    public func reset() { send(.request(.reset)) }
    public func sendCtrlAltDel() { send(.request(.ctrlAltDel)) }
    public func requestPowerOff() { send(.request(.powerButton)) }
    public func powerOff() { send(.request(.powerOff)) }
    public func changeISO(_ path: String?) { send(.request(.changeISO(path))) }
    /// The answer arrives in `networkNotice`.
    public func switchNetwork(to mode: String) { send(.request(.switchNetwork(mode))) }
    public func setPortForwards(_ forwards: String) { send(.request(.setPortForwards(forwards))) }

    private func send(_ message: ControlMessage) {
        guard state.isActive else { return }
        writer.withLock { _ in _ = socket.write(message.frame()) }
    }

    /// Polls until the VM has stopped; false on timeout.
    @discardableResult
    public func waitUntilStopped(timeout: Duration) -> Bool {
        let deadline = ContinuousClock.now + timeout
        while state.isActive {
            if ContinuousClock.now >= deadline { return false }
            Thread.sleep(forTimeInterval: 0.01)
        }
        return true
    }

    /// Detaches: the VM carries out what was sent, then closes its end; the VM keeps running.
    public func close() {
        shared.withLock { $0.closing = true }
        socket.finishWriting()
    }

    // MARK: Reader thread

    private func read(_ initial: ControlFramer) {
        var framer = initial
        do {
            while true {
                while let body = try framer.next() { apply(try ControlMessage.decode(body)) }
                let bytes = socket.read()
                if bytes.isEmpty { break }
                framer.append(bytes)
            }
        } catch {
            shared.withLock { $0.state = .stopped(.hostError("\(name): \(error)")) }
        }
        vanished()
    }

    private func apply(_ message: ControlMessage) {
        if case .serialOutput(let bytes) = message { onSerial?(bytes) }
        shared.withLock { s in
            switch message {
            case .state(let state): s.state = state
            case .stats(let stats): s.stats = stats
            case .screen(let update):
                update.apply(to: &s.screen)
                s.screenVersion &+= 1
            case .serialOutput(let bytes):
                s.serial.append(bytes)
                s.serialVersion &+= 1
            case .notice(let notice) where notice.kind == .media:
                s.mediaNotice = VMSession.MediaNotice(text: notice.text, isError: notice.isError)
            case .notice(let notice): s.networkNotice = VMSession.MediaNotice(text: notice.text, isError: notice.isError)
            case .error(let text): s.state = .stopped(.hostError("\(name): the VM closed the connection: \(text)"))
            case .hello, .welcome, .keys, .serialInput, .request: break
            }
            s.version &+= 1
        }
    }

    /// The socket closed: unless the VM said it stopped, ask its monitor how the process ended.
    private func vanished() {
        let (closing, active) = shared.withLock { ($0.closing, $0.state.isActive) }
        if active, !closing {
            let deadline = ContinuousClock.now + .seconds(3)
            var status = run.status(name)
            while status == nil, ContinuousClock.now < deadline {
                Thread.sleep(forTimeInterval: 0.02)
                status = run.status(name)
            }
            shared.withLock {
                $0.state = status?.state ?? .stopped(.hostError("the VM process closed its control socket without a word"))
                $0.crash = status?.crash
            }
        }
        shared.withLock {
            $0.connected = false
            $0.version &+= 1
        }
    }
}
