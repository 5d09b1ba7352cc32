import Foundation
import Testing
@testable import Engine

/// NAT through libslirp without a CPU: hand-built guest frames go in, slirp's answers come out
/// (DHCP, ARP, a TCP connection to the host's loopback through 10.0.2.2, a host port forward).
@Suite(.serialized) struct SlirpNATTests {
    static let guestMAC: [UInt8] = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56]
    static let gatewayMAC: [UInt8] = [0x52, 0x55, 0x0A, 0x00, 0x02, 0x02]
    static let guestIP: [UInt8] = [10, 0, 2, 15]
    static let hostIP: [UInt8] = [10, 0, 2, 2]


    let io: HostIOThread
    let nat: SlirpNAT
    let sink = FrameSink()

    init() throws {
        io = try HostIOThread(name: "slirp-test")
        nat = try SlirpNAT(io: io)
        nat.receiver = { [sink] in sink.append($0) }
    }

    func finish() {
        nat.close()
        io.stop()
    }

    // MARK: Frame building (checksums computed here, independently of the engine)

    static func checksum(_ bytes: [UInt8]) -> UInt16 {
        var sum = 0
        for i in stride(from: 0, to: bytes.count, by: 2) {
            sum += Int(bytes[i]) << 8 + (i + 1 < bytes.count ? Int(bytes[i + 1]) : 0)
        }
        while sum > 0xFFFF { sum = (sum & 0xFFFF) + (sum >> 16) }
        return ~UInt16(sum)
    }

    static func be16(_ v: Int) -> [UInt8] { [UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)] }
    static func be32(_ v: UInt32) -> [UInt8] { be16(Int(v >> 16)) + be16(Int(v & 0xFFFF)) }

    static func ethernet(to destination: [UInt8], type: Int, _ payload: [UInt8]) -> [UInt8] {
        destination + guestMAC + be16(type) + payload
    }

    static func ipv4(from source: [UInt8], to destination: [UInt8], proto: UInt8, _ payload: [UInt8]) -> [UInt8] {
        var header: [UInt8] = [0x45, 0] + be16(20 + payload.count) + [0x12, 0x34, 0, 0, 64, proto, 0, 0] + source + destination
        let sum = checksum(header)
        header[10] = UInt8(sum >> 8); header[11] = UInt8(sum & 0xFF)
        return header + payload
    }

    static func tcp(from: [UInt8], _ sourcePort: Int, to: [UInt8], _ destinationPort: Int,
                    seq: UInt32, ack: UInt32, flags: UInt8) -> [UInt8] {
        var segment = be16(sourcePort) + be16(destinationPort) + be32(seq) + be32(ack) + [0x50, flags] + be16(64240) + [0, 0, 0, 0]
        let sum = checksum(from + to + [0, 6] + be16(segment.count) + segment)
        segment[16] = UInt8(sum >> 8); segment[17] = UInt8(sum & 0xFF)
        return ipv4(from: from, to: to, proto: 6, segment)
    }

    static func arpRequest(for target: [UInt8]) -> [UInt8] {
        ethernet(to: [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF], type: 0x0806,
                 [0, 1, 8, 0, 6, 4, 0, 1] + guestMAC + guestIP + [0, 0, 0, 0, 0, 0] + target)
    }

    static func dhcpDiscover(xid: UInt32) -> [UInt8] {
        var bootp: [UInt8] = [1, 1, 6, 0] + be32(xid) + [0, 0, 0x80, 0] + [UInt8](repeating: 0, count: 16)
        bootp += guestMAC + [UInt8](repeating: 0, count: 10 + 64 + 128)
        bootp += [0x63, 0x82, 0x53, 0x63, 53, 1, 1, 255]
        bootp += [UInt8](repeating: 0, count: 300 - bootp.count)
        let udp = be16(68) + be16(67) + be16(8 + bootp.count) + [0, 0] + bootp
        return ethernet(to: [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF], type: 0x0800,
                        ipv4(from: [0, 0, 0, 0], to: [255, 255, 255, 255], proto: 17, udp))
    }

    /// The IPv4 packet in a frame, if it carries one: (header length, protocol, source, destination).
    static func ip(_ f: [UInt8]) -> (ihl: Int, proto: UInt8, source: [UInt8], destination: [UInt8])? {
        guard f.count >= 34, f[12] == 0x08, f[13] == 0x00 else { return nil }
        return (Int(f[14] & 0x0F) * 4, f[23], Array(f[26..<30]), Array(f[30..<34]))
    }

    static func freePort() -> Int {
        let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(s) }
        var address = loopback(port: 0)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(s, $0, 16) } }
        var length = socklen_t(16)
        _ = withUnsafeMutablePointer(to: &address) { getsockname(s, UnsafeMutableRawPointer($0).assumingMemoryBound(to: sockaddr.self), &length) }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }

    /// A TCP listener on 127.0.0.1; returns the socket and its port.
    static func listener() -> (Int32, Int) {
        let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = loopback(port: 0)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(s, $0, 16) } }
        listen(s, 4)
        var length = socklen_t(16)
        _ = withUnsafeMutablePointer(to: &address) { getsockname(s, UnsafeMutableRawPointer($0).assumingMemoryBound(to: sockaddr.self), &length) }
        return (s, Int(UInt16(bigEndian: address.sin_port)))
    }

    static func connect(port: Int, blocking: Bool) -> (Int32, Int32) {
        let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        if !blocking { _ = fcntl(s, F_SETFL, O_NONBLOCK) }
        var address = loopback(port: port)
        let r = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(s, $0, 16) } }
        return (s, r == 0 ? 0 : errno)
    }

    // MARK: Tests

    @Test func dhcpDiscoverGetsAnOfferWithRouterAndDNS() throws {
        defer { finish() }
        nat.send(SlirpNATTests.dhcpDiscover(xid: 0xCAFE_F00D))
        let offer = sink.first { f in
            guard let ip = SlirpNATTests.ip(f), ip.proto == 17 else { return false }
            return f[14 + ip.ihl] == 0 && f[15 + ip.ihl] == 67
        }
        let frame = try #require(offer)
        let bootp = 14 + SlirpNATTests.ip(frame)!.ihl + 8
        #expect(Array(frame[0..<6]) == SlirpNATTests.guestMAC || frame[0] == 0xFF)
        #expect(frame[bootp] == 2) // BOOTREPLY
        #expect(Array(frame[(bootp + 4)..<(bootp + 8)]) == [0xCA, 0xFE, 0xF0, 0x0D])
        #expect(Array(frame[(bootp + 16)..<(bootp + 20)]) == SlirpNATTests.guestIP) // yiaddr
        var options: [UInt8: [UInt8]] = [:]
        var i = bootp + 240
        while i + 1 < frame.count, frame[i] != 255 {
            if frame[i] == 0 { i += 1; continue }
            let length = Int(frame[i + 1])
            options[frame[i]] = Array(frame[(i + 2)..<min(frame.count, i + 2 + length)])
            i += 2 + length
        }
        #expect(options[53] == [2])                 // OFFER
        #expect(options[3] == SlirpNATTests.hostIP)  // router
        #expect(options[6] == [10, 0, 2, 3])        // DNS
        #expect(options[1] == [255, 255, 255, 0])
    }

    @Test func arpForTheGatewayIsAnswered() throws {
        defer { finish() }
        nat.send(SlirpNATTests.arpRequest(for: SlirpNATTests.hostIP))
        let reply = try #require(sink.first { $0.count >= 42 && $0[12] == 0x08 && $0[13] == 0x06 && $0[21] == 2 })
        #expect(Array(reply[0..<6]) == SlirpNATTests.guestMAC)
        #expect(Array(reply[28..<32]) == SlirpNATTests.hostIP)        // sender: the gateway
        #expect(Array(reply[32..<38]) == SlirpNATTests.guestMAC)      // target: us
        #expect(Array(reply[38..<42]) == SlirpNATTests.guestIP)
    }

    @Test func aSYNToTheGatewayReachesTheHostLoopback() throws {
        defer { finish() }
        let (server, port) = SlirpNATTests.listener()
        defer { close(server) }
        nat.send(SlirpNATTests.arpRequest(for: SlirpNATTests.hostIP))
        nat.send(SlirpNATTests.ethernet(to: SlirpNATTests.gatewayMAC, type: 0x0800,
                                        SlirpNATTests.tcp(from: SlirpNATTests.guestIP, 40000, to: SlirpNATTests.hostIP, port,
                                                          seq: 1000, ack: 0, flags: 0x02)))
        var ready = pollfd(fd: server, events: Int16(POLLIN), revents: 0)
        #expect(poll(&ready, 1, 5000) == 1)
        let accepted = accept(server, nil, nil)
        #expect(accepted >= 0)
        if accepted >= 0 { close(accepted) }
        let synAck = try #require(sink.first { f in
            guard let ip = SlirpNATTests.ip(f), ip.proto == 6 else { return false }
            return f[14 + ip.ihl + 13] & 0x12 == 0x12
        })
        let tcp = 14 + SlirpNATTests.ip(synAck)!.ihl
        #expect(SlirpNATTests.ip(synAck)!.source == SlirpNATTests.hostIP)
        #expect(Int(synAck[tcp]) << 8 | Int(synAck[tcp + 1]) == port)
        #expect(Int(synAck[tcp + 2]) << 8 | Int(synAck[tcp + 3]) == 40000)
        #expect(Array(synAck[(tcp + 8)..<(tcp + 12)]) == SlirpNATTests.be32(1001)) // acknowledges our SYN
    }

    @Test func aHostForwardDeliversTheConnectionToTheGuest() throws {
        defer { finish() }
        let port = SlirpNATTests.freePort()
        let forward = VMConfig.PortForward(proto: .tcp, hostPort: port, guestPort: 80)
        try nat.addForward(forward)
        nat.send(SlirpNATTests.arpRequest(for: SlirpNATTests.hostIP)) // slirp learns the guest's MAC
        let (client, _) = SlirpNATTests.connect(port: port, blocking: false)
        defer { close(client) }
        let syn = try #require(sink.first { f in
            guard let ip = SlirpNATTests.ip(f), ip.proto == 6 else { return false }
            return f[14 + ip.ihl + 13] & 0x12 == 0x02
        })
        let tcp = 14 + SlirpNATTests.ip(syn)!.ihl
        #expect(SlirpNATTests.ip(syn)!.destination == SlirpNATTests.guestIP)
        #expect(Int(syn[tcp + 2]) << 8 | Int(syn[tcp + 3]) == 80)
        #expect(Array(syn[0..<6]) == SlirpNATTests.guestMAC)

        // Removed while running: the host port is closed again.
        try nat.removeForward(forward)
        let (again, error) = SlirpNATTests.connect(port: port, blocking: true)
        close(again)
        #expect(error == ECONNREFUSED)
        #expect(throws: NetworkError.self) { try nat.removeForward(forward) }
    }

    @Test func aTakenHostPortIsAClearError() throws {
        defer { finish() }
        let (busy, port) = SlirpNATTests.listener()
        defer { close(busy) }
        do {
            try nat.addForward(VMConfig.PortForward(proto: .tcp, hostPort: port, guestPort: 22))
            Issue.record("the forward should have failed")
        } catch let error as NetworkError {
            #expect(error.description.contains("tcp 127.0.0.1:\(port)"))
            #expect(error.description.contains("in use"))
        }
        // UDP on the same number is a different port, and works.
        try nat.addForward(VMConfig.PortForward(proto: .udp, hostPort: port, guestPort: 53))
    }
}
