import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Serves a `VMSession` on its control socket (the protocol is in ControlMessage.swift): one
/// thread accepts, one thread per client pushes what changed and carries out what it asks. A
/// client that misbehaves or vanishes loses its connection; the VM never notices.
public final class VMServer: Sendable {
    let session: VMSession
    public let listener: UnixSocket
    /// Where refused connections are noted (the VM's log).
    let log: @Sendable (String) -> Void

    /// How often a connection looks for news without a doorbell, and with one (for what the
    /// session does not ring for: notices).
    static let tickMilliseconds: Int32 = 5
    static let doorbellTickMilliseconds: Int32 = 100
    /// The least time between two screen updates.
    static let screenInterval: UInt64 = 10_000_000
    static let helloTimeout: UInt64 = 5_000_000_000

    public init(session: VMSession, listener: UnixSocket, log: @escaping @Sendable (String) -> Void) {
        self.session = session
        self.listener = listener
        self.log = log
    }

    public func start() {
        let thread = Thread { [self] in
            while let client = listener.accept() {
                let worker = Thread { [self] in serve(client) }
                worker.name = "vmtui control client"
                worker.start()
            }
        }
        thread.name = "vmtui control accept"
        thread.start()
    }

    private func refuse(_ client: UnixSocket, _ message: String) {
        log("control socket: refused a client (pid \(client.peer.map { "\($0.pid)" } ?? "?")): \(message)")
        client.write(ControlMessage.error(message).frame())
    }

    private func serve(_ client: UnixSocket) {
        guard let peer = client.peer, peer.uid == geteuid() || peer.uid == 0 else {
            refuse(client, "this VM belongs to uid \(geteuid()); only that user and root may control it")
            return
        }
        client.setSendTimeout(seconds: 5)
        var framer = ControlFramer()
        do {
            guard let hello = try handshake(client, &framer) else { return }
            guard case .hello(let version) = hello else {
                refuse(client, "not the vmtui control protocol: the first message must be a hello")
                return
            }
            guard version == ControlMessage.version else {
                refuse(client, ControlProtocolError.version(theirs: version).description)
                return
            }
        } catch {
            refuse(client, "\(error)")
            return
        }
        let seconds = UInt32(session.powerButtonTimeout.components.seconds)
        guard client.write(ControlMessage.welcome(.init(name: session.name, powerButtonSeconds: seconds, warnings: session.warnings)).frame())
        else { return }
        var feed = Feed(notice: session.mediaNotice, networkNotice: session.networkNotice)
        let doorbell = session.doorbell()
        defer { doorbell.map(session.leave) }
        // What a client sent before it went away (`vmtui type` writes and leaves) is still carried out.
        while feed.push(session, to: client) || client.waitReadable(milliseconds: 0) {
            let wait = feed.milliseconds(toNextLook: doorbell != nil)
            guard doorbell.map({ client.waitReadable(milliseconds: wait, or: $0) }) ?? client.waitReadable(milliseconds: wait)
            else { continue }
            let bytes = client.read()
            if bytes.isEmpty { return }
            framer.append(bytes)
            do {
                while let body = try framer.next() {
                    if let answer = carryOut(try ControlMessage.decode(body)) { client.write(answer.frame()) }
                }
            } catch {
                refuse(client, "\(error)")
                return
            }
        }
    }

    /// The first message, within 5 s; nil when the client left first.
    private func handshake(_ client: UnixSocket, _ framer: inout ControlFramer) throws -> ControlMessage? {
        let deadline = HostClock.monotonicNow() &+ VMServer.helloTimeout
        while true {
            if let body = try framer.next() { return try ControlMessage.decode(body) }
            let left = Int64(bitPattern: deadline &- HostClock.monotonicNow())
            guard left > 0, client.waitReadable(milliseconds: Int32(left / 1_000_000)) else {
                throw ControlProtocolError.malformed("no hello within 5 s")
            }
            let bytes = client.read()
            if bytes.isEmpty { return nil }
            framer.append(bytes)
        }
    }

    /// Does what a client asked; some requests are answered.
    private func carryOut(_ message: ControlMessage) -> ControlMessage? {
        switch message {
        case .keys(let scancodes): session.send(scancodes: scancodes)
        case .serialInput(let bytes): session.sendSerial(bytes)
        case .request(.pause): session.pause()
        case .request(.resume): session.resume()
        case .request(.reset): session.reset()
        case .request(.ctrlAltDel): session.sendCtrlAltDel()
        case .request(.powerButton): session.requestPowerOff()
        case .request(.powerOff): session.powerOff()
        case .request(.changeISO(let path)): session.changeISO(path)
        case .request(.switchNetwork(let mode)): session.switchNetwork(to: mode)
        case .request(.setPortForwards(let forwards)): session.setPortForwards(forwards)
        case .hello, .welcome, .state, .stats, .screen, .serialOutput, .notice, .error:
            return .error("a client does not send that message")
        }
        return nil
    }

    /// What one client has been sent, so that only changes go out.
    private struct Feed {
        var state: VMState?
        var stats: VMStats?
        var screen: TextScreen?
        var screenVersion: UInt64 = .max
        var screenSent: UInt64 = 0
        /// A screen change waits for `screenInterval` to pass since the last update.
        var heldBack = false
        var serialVersion: UInt64 = .max
        var serial = SerialFeed()
        var notice: VMSession.MediaNotice?
        var networkNotice: VMSession.MediaNotice?

        init(notice: VMSession.MediaNotice?, networkNotice: VMSession.MediaNotice?) {
            self.notice = notice
            self.networkNotice = networkNotice
        }

        /// How long the connection may sleep before it looks again: until a held-back screen
        /// update is due, else a tick.
        func milliseconds(toNextLook doorbell: Bool) -> Int32 {
            let tick = doorbell ? VMServer.doorbellTickMilliseconds : VMServer.tickMilliseconds
            guard heldBack else { return tick }
            let left = Int64(bitPattern: screenSent &+ VMServer.screenInterval &- HostClock.monotonicNow())
            return min(tick, Int32(max(1, left / 1_000_000 + 1)))
        }

        /// Sends what changed; false when the client is gone.
        mutating func push(_ session: VMSession, to client: UnixSocket) -> Bool {
            var out: [UInt8] = []
            let now = HostClock.monotonicNow()
            let (newScreen, version) = session.screen()
            heldBack = version != screenVersion && now &- screenSent < VMServer.screenInterval
            if version != screenVersion, !heldBack {
                if let update = ScreenUpdate.between(screen, newScreen) { out += ControlMessage.screen(update).frame() }
                screen = newScreen
                screenVersion = version
                screenSent = now
            }
            let (scrollback, serialNow) = session.serial()
            if serialNow != serialVersion {
                let bytes = serial.bytes(for: scrollback)
                if !bytes.isEmpty { out += ControlMessage.serialOutput(bytes).frame() }
                serialVersion = serialNow
            }
            if let latest = session.mediaNotice, latest != notice {
                out += ControlMessage.notice(.init(kind: .media, isError: latest.isError, text: latest.text)).frame()
                notice = latest
            }
            if let latest = session.networkNotice, latest != networkNotice {
                out += ControlMessage.notice(.init(kind: .network, isError: latest.isError, text: latest.text)).frame()
                networkNotice = latest
            }
            let newStats = session.stats
            if newStats != stats {
                out += ControlMessage.stats(newStats).frame()
                stats = newStats
            }
            // The state last, so a stopped VM's final screen and stats are already there.
            let newState = session.state
            if newState != state {
                out += ControlMessage.state(newState).frame()
                state = newState
            }
            return out.isEmpty || client.write(out)
        }
    }
}
