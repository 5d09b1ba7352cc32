import Foundation
import Testing
@testable import Engine

/// The control socket protocol: every message through the codec and back, frames cut at any
/// byte, hostile input refused with a message, screen and COM1 updates that rebuild the VM's copy.
@Suite struct ControlProtocolTests {
    static let messages: [ControlMessage] = [
        .hello(version: ControlMessage.version), .keys([0x1C, 0xF0, 0x1C]), .serialInput(Array("ls\r".utf8)),
        .request(.pause), .request(.resume), .request(.reset), .request(.ctrlAltDel), .request(.powerButton),
        .request(.powerOff), .request(.changeISO("/srv/isos/débian.iso")), .request(.changeISO(nil)),
        .request(.switchNetwork("bridge")), .request(.setPortForwards("tcp:2222:22,udp:5353:53")),
        .welcome(.init(name: "web", powerButtonSeconds: 10, warnings: ["no KVM", ""])),
        .state(.starting), .state(.running), .state(.paused), .state(.hostDiskFull(path: "/full/disk.qcow2")), .state(.stopped(.poweredOff)),
        .state(.stopped(.tripleFault("at 0008:1234"))), .state(.stopped(.resetLoop(count: 5))),
        .state(.stopped(.unsupported("SSE"))), .state(.stopped(.hostError("disk gone"))), .state(.stopped(.debugExit(-3))), .state(.stopped(.powerCut)),
        .stats({ var s = VMStats(); s.uptimeNanoseconds = 123; s.instructionsRetired = 1 << 40; s.mips = 212.5; s.cpuPercent = 99
                  s.diskReadRate = 4_194_304; s.diskWriteRate = 512; s.networkReceiveRate = 1500.5; s.networkSendRate = 60
                  s.mipsPerCPU = [150.25, 62.25]; return s }()),
        .stats({ var s = VMStats(); s.countsInstructions = false; s.cpuPercent = 160; s.cpuPercentPerCPU = [99.5, 58]; return s }()),
        .screen(ScreenUpdate.between(nil, TextScreen(columns: 40, rows: 25))!),
        .serialOutput(Array("login: ".utf8)), .notice(.init(kind: .media, isError: true, text: "not an ISO")),
        .notice(.init(kind: .network, isError: false, text: "NAT")), .error("go away"),
    ]

    @Test(arguments: messages) func roundTrip(_ message: ControlMessage) throws {
        var framer = ControlFramer()
        framer.append(message.frame())
        let body = try #require(try framer.next())
        #expect(try ControlMessage.decode(body) == message)
        #expect(try framer.next() == nil)
    }

    @Test func framesArriveInPiecesAndTogether() throws {
        let stream = ControlProtocolTests.messages.flatMap { $0.frame() }
        var framer = ControlFramer()
        var decoded: [ControlMessage] = []
        var offset = 0
        var step = 1
        while offset < stream.count {
            let end = min(offset + step, stream.count)
            framer.append(stream[offset..<end])
            while let body = try framer.next() { decoded.append(try ControlMessage.decode(body)) }
            offset = end
            step = step % 97 + 3
        }
        #expect(decoded == ControlProtocolTests.messages)
    }

    @Test func garbageIsRefusedWithAMessage() {
        var framer = ControlFramer()
        framer.append(Array("GET / HTTP/1.1\r\n".utf8))
        #expect(throws: ControlProtocolError.self) { try framer.next() }
        var empty = ControlFramer()
        empty.append([0, 0, 0, 0])
        #expect(throws: ControlProtocolError.self) { try empty.next() }
        // A hello without the magic, an unknown type, a field longer than its frame, trailing bytes.
        for body: [UInt8] in [[0x01] + Array("vmtui-xx".utf8) + [0, 1], [0x42], [0x02, 0, 0, 0, 9, 1], [0x83, 1, 2, 3],
                               ControlMessage.request(.pause).frame().dropFirst(4) + [0]] {
            #expect(throws: ControlProtocolError.self) { try ControlMessage.decode(body) }
        }
    }

    @Test func screenUpdatesCarryOnlyChangedRowsAndRebuildTheScreen() throws {
        var vm = TextScreen()
        var client = TextScreen(columns: 40, rows: 10)
        ScreenUpdate.between(nil, vm)!.apply(to: &client)
        #expect(client == vm)
        #expect(ScreenUpdate.between(vm, vm) == nil)
        let before = vm
        vm.cells[3 * 80 + 5] = 0x1F41
        vm.cells[20 * 80] = 0x0742
        vm.cursorColumn = 6
        let update = try #require(ScreenUpdate.between(before, vm))
        #expect(update.changedRows.map(\.index) == [3, 20])
        let message = ControlMessage.screen(update)
        guard case .screen(let decoded) = try ControlMessage.decode(Array(message.frame().dropFirst(4))) else {
            Issue.record("not a screen")
            return
        }
        decoded.apply(to: &client)
        #expect(client == vm)
        // Only the cursor moved: an update with no rows.
        let moved = vm
        vm.cursorRow = 9
        #expect(ScreenUpdate.between(moved, vm)?.changedRows.isEmpty == true)
    }

    @Test func serialUpdatesRebuildTheScrollback() {
        var vm = SerialScrollback(maxLines: 50)
        var client = SerialScrollback(maxLines: 50)
        var tail = SerialFeed()
        let chunks = ["boot", "ing...\r\n", "login: ", "root\r\n# ", "ls\r\nbin  etc\r\n# ", "abc\u{8}\u{8}XY", "\r12345",
                      String(repeating: "line\r\n", count: 80), "\u{1B}[1mbold\u{1B}[0m\ttab", ""]
        for chunk in chunks {
            vm.append(Array(chunk.utf8))
            client.append(tail.bytes(for: vm))
            #expect(client.tail(10) == vm.tail(10), "after \(chunk.debugDescription)")
        }
        #expect(tail.bytes(for: vm).isEmpty)
    }
}

/// A real server on a socket: a client of another version and garbage are refused with a
/// message, and the VM goes on serving the next client.
@Suite struct VMServerTests {
    struct Slow: Error {}

    /// Sends `bytes`, returns the error message the server answers with before closing.
    static func refusal(_ path: String, _ bytes: [UInt8]) throws -> String? {
        let socket = try UnixSocket.connect(path: path)
        socket.write(bytes)
        var framer = ControlFramer()
        while socket.waitReadable(milliseconds: 6000) {
            let got = socket.read()
            if got.isEmpty { break }
            framer.append(got)
        }
        guard let body = try framer.next(), case .error(let text) = try ControlMessage.decode(body) else { return nil }
        return text
    }

    @Test func otherVersionsAndGarbageAreRefusedAndTheVMKeepsServing() throws {
        let directory = try #require(mkdtemp(strdup("/tmp/vmtui-test-XXXXXX")).map { String(cString: $0) })
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let run = RunDirectory(path: directory)
        // Still assembling for 3 s: active all along, no guest needed.
        let session = VMSession(name: "t") { Thread.sleep(forTimeInterval: 3); throw Slow() }
        let server = VMServer(session: session, listener: try UnixSocket.listen(path: run.socket("t")), log: { _ in })
        server.start()
        defer { server.listener.shutdown() }

        let version = try VMServerTests.refusal(run.socket("t"), ControlMessage.hello(version: 99).frame())
        #expect(version?.contains("version 99 is not spoken here") == true, "\(version ?? "no message")")
        let garbage = try VMServerTests.refusal(run.socket("t"), Array("hello?\n".utf8))
        #expect(garbage?.contains("not the vmtui control protocol") == true, "\(garbage ?? "no message")")
        let keysFirst = try VMServerTests.refusal(run.socket("t"), ControlMessage.keys([0x1C]).frame())
        #expect(keysFirst?.contains("must be a hello") == true, "\(keysFirst ?? "no message")")

        let client = try VMClient(name: "t", run: run)
        #expect(client.name == "t")
        #expect(client.powerButtonTimeout == .seconds(10))
        let deadline = ContinuousClock.now + .seconds(2)
        while client.screen().version == 0, ContinuousClock.now < deadline { Thread.sleep(forTimeInterval: 0.01) }
        #expect(client.screen().version > 0)
        #expect(client.state == .starting)
        // A network switch goes through the socket; one the VM cannot parse is answered with why.
        client.switchNetwork(to: "carrier-pigeon")
        while client.networkNotice == nil, ContinuousClock.now < deadline + .seconds(2) { Thread.sleep(forTimeInterval: 0.01) }
        let notice = client.networkNotice
        #expect(notice?.isError == true && notice?.text.contains("carrier-pigeon") == true, "\(String(describing: notice))")
        client.close()
    }

    /// A connection sleeps on its client and its doorbell at once: a ring from the engine ends
    /// the wait (a key's echo goes out then), data from the client still does.
    @Test func aDoorbellEndsAConnectionsWait() throws {
        let directory = try #require(mkdtemp(strdup("/tmp/vmtui-test-XXXXXX")).map { String(cString: $0) })
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let listener = try UnixSocket.listen(path: directory + "/bell.sock")
        let client = try UnixSocket.connect(path: directory + "/bell.sock")
        let connection = try #require(listener.accept())
        let bell = try #require(Doorbell())

        Thread { Thread.sleep(forTimeInterval: 0.05); bell.ring() }.start()
        let start = ContinuousClock.now
        #expect(!connection.waitReadable(milliseconds: 60_000, or: bell), "a ring is not data from the client")
        #expect(ContinuousClock.now - start < .seconds(30), "the ring did not end the wait")
        #expect(!connection.waitReadable(milliseconds: 0, or: bell), "nothing is pending once the ring was answered")

        client.write([1])
        #expect(connection.waitReadable(milliseconds: 60_000, or: bell))
        #expect(connection.read() == [1])
    }
}
