import CLinuxHost
import Foundation
import TestSupport
import Testing
@testable import Engine

/// Needs no privileges: the names a bridged VM's TAP gets.
@Test func tapNamesAreShortAndDifferForSimilarVMNames() {
    let long = String(repeating: "debian-bookworm-", count: 4)
    let a = TapBridge.tapName(forVM: long + "a"), b = TapBridge.tapName(forVM: long + "b")
    #expect(a.count <= 15 && b.count <= 15)
    #expect(a != b)
    #expect(a.hasPrefix("vm-debian-"))
    #expect(TapBridge.tapName(forVM: "web") == TapBridge.tapName(forVM: "web"))
}

/// Root only, and the traffic stays on this machine: the test makes a bridge and a network
/// namespace on a veth attached to it, then talks to the namespace through the VM's TAP.
let canMakeBridges = getuid() == 0 && FileManager.default.fileExists(atPath: "/dev/net/tun")
    && FileManager.default.isExecutableFile(atPath: "/usr/sbin/ip")

@Suite(.serialized, .enabled(if: canMakeBridges, "needs root, /dev/net/tun and iproute2 to make a test bridge"))
struct TapBridgeTests {
    let tag = String(getpid() % 100_000)
    var bridgeName: String { "vmtbr-\(tag)" }
    var namespace: String { "vmtns-\(tag)" }
    static let guestMAC: [UInt8] = [0x52, 0x54, 0x00, 0xAB, 0xCD, 0xEF]
    static let guestIP: [UInt8] = [192, 168, 249, 10]
    static let peerIP: [UInt8] = [192, 168, 249, 2]

    @discardableResult
    static func ip(_ arguments: String...) -> Int32 {
        (try? HostProcess("/usr/sbin/ip", arguments, stdout: .null, stderr: .null).status) ?? -1
    }

    func makeBridgeAndNamespace() {
        TapBridgeTests.ip("link", "add", bridgeName, "type", "bridge")
        TapBridgeTests.ip("link", "set", bridgeName, "up")
        TapBridgeTests.ip("netns", "add", namespace)
        TapBridgeTests.ip("link", "add", "vmtv0-\(tag)", "type", "veth", "peer", "name", "vmtv1-\(tag)")
        TapBridgeTests.ip("link", "set", "vmtv1-\(tag)", "netns", namespace)
        TapBridgeTests.ip("link", "set", "vmtv0-\(tag)", "master", bridgeName, "up")
        TapBridgeTests.ip("-n", namespace, "addr", "add", "192.168.249.2/24", "dev", "vmtv1-\(tag)")
        TapBridgeTests.ip("-n", namespace, "link", "set", "vmtv1-\(tag)", "up")
    }

    func removeBridgeAndNamespace() {
        TapBridgeTests.ip("netns", "del", namespace)
        TapBridgeTests.ip("link", "del", "vmtv0-\(tag)")
        TapBridgeTests.ip("link", "del", bridgeName)
    }


    /// Runs `body` on a thread whose effective capabilities lack CAP_NET_ADMIN (they are per thread).
    static func withoutNetAdmin<T: Sendable>(_ body: @escaping @Sendable () -> T) -> T {
        nonisolated(unsafe) var result: T?
        let done = DispatchSemaphore(value: 0)
        Thread {
            #expect(lh_set_net_admin_effective(0) == 0)
            result = body()
            done.signal()
        }.start()
        done.wait()
        return result!
    }

    static func checksum(_ bytes: [UInt8]) -> UInt16 {
        var sum = 0
        for i in stride(from: 0, to: bytes.count, by: 2) { sum += Int(bytes[i]) << 8 + (i + 1 < bytes.count ? Int(bytes[i + 1]) : 0) }
        while sum > 0xFFFF { sum = (sum & 0xFFFF) + (sum >> 16) }
        return ~UInt16(sum)
    }

    @Test func framesReachTheNamespaceOnTheBridgeAndRepliesComeBack() throws {
        makeBridgeAndNamespace()
        defer { removeBridgeAndNamespace() }
        let io = try HostIOThread()
        defer { io.stop() }
        let tap = try TapBridge(io: io, vmName: "tap test \(tag)", bridge: bridgeName)
        let sink = FrameSink()
        tap.receiver = { [sink] in sink.append($0) }
        #expect(tap.name.count <= 15)
        let master = try FileManager.default.destinationOfSymbolicLink(atPath: "/sys/class/net/\(tap.name)/master")
        #expect(master.hasSuffix("/\(bridgeName)"))
        let flags = try String(contentsOfFile: "/sys/class/net/\(tap.name)/flags", encoding: .utf8)
        #expect(Int(flags.dropFirst(2).trimmingCharacters(in: .whitespacesAndNewlines), radix: 16)! & 1 == 1) // IFF_UP

        // ARP: who has 192.168.249.2?
        let broadcast: [UInt8] = [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]
        tap.send(broadcast + TapBridgeTests.guestMAC + [0x08, 0x06, 0, 1, 8, 0, 6, 4, 0, 1]
                 + TapBridgeTests.guestMAC + TapBridgeTests.guestIP + [0, 0, 0, 0, 0, 0] + TapBridgeTests.peerIP)
        let arp = try #require(sink.first { $0.count >= 42 && $0[12] == 0x08 && $0[13] == 0x06 && $0[21] == 2 })
        #expect(Array(arp[28..<32]) == TapBridgeTests.peerIP)
        let peerMAC = Array(arp[22..<28])

        // ICMP echo to it.
        var icmp: [UInt8] = [8, 0, 0, 0, 0x12, 0x34, 0, 1] + Array("vmtui".utf8)
        let icmpSum = TapBridgeTests.checksum(icmp)
        icmp[2] = UInt8(icmpSum >> 8); icmp[3] = UInt8(icmpSum & 0xFF)
        var header: [UInt8] = [0x45, 0, 0, UInt8(20 + icmp.count), 0, 1, 0x40, 0, 64, 1, 0, 0] + TapBridgeTests.guestIP + TapBridgeTests.peerIP
        let ipSum = TapBridgeTests.checksum(header)
        header[10] = UInt8(ipSum >> 8); header[11] = UInt8(ipSum & 0xFF)
        tap.send(peerMAC + TapBridgeTests.guestMAC + [0x08, 0x00] + header + icmp)
        let reply = try #require(sink.first { f in
            f.count >= 42 && f[12] == 0x08 && f[13] == 0x00 && f[23] == 1 && f[34] == 0 && Array(f[26..<30]) == TapBridgeTests.peerIP
        })
        #expect(Array(reply[38..<40]) == [0x12, 0x34])
        #expect(Array(reply[0..<6]) == TapBridgeTests.guestMAC)

        // The link follows the TAP: down when an administrator takes it off the bridge or
        // down, up again when it is back.
        let link = FrameSink()
        tap.linkChanged = { [link] up in link.append([up ? 1 : 0]) }
        TapBridgeTests.ip("link", "set", tap.name, "nomaster")
        #expect(link.first(within: 3) { $0 == [0] } != nil && !tap.isLinkUp, "no link down after leaving the bridge")
        TapBridgeTests.ip("link", "set", tap.name, "master", bridgeName)
        #expect(link.first(within: 3) { $0 == [1] } != nil && tap.isLinkUp, "no link up back on the bridge")
        TapBridgeTests.ip("link", "set", tap.name, "down")
        #expect(MachineNetworkTests.waitFor(3) { !tap.isLinkUp }, "no link down after ip link set down")

        // Non-persistent: the TAP is gone once closed.
        tap.close()
        #expect(!FileManager.default.fileExists(atPath: "/sys/class/net/\(tap.name)"))
    }

    @Test func errorsNameTheProblemAndTheFix() throws {
        makeBridgeAndNamespace()
        defer { removeBridgeAndNamespace() }
        let io = try HostIOThread()
        defer { io.stop() }

        #expect(throws: NetworkError.bridgeMissing("vmtnobr-\(tag)")) {
            try TapBridge(io: io, vmName: "x", bridge: "vmtnobr-\(tag)")
        }
        #expect(NetworkError.bridgeMissing("br9").description.contains("ip link add br9 type bridge"))
        #expect(throws: NetworkError.notABridge("lo")) { try TapBridge(io: io, vmName: "x", bridge: "lo") }
        #expect(throws: NetworkError.tunMissing("does not exist")) { try TapBridge.openTun(path: "/nonexistent/tun") }
        #expect(NetworkError.tunMissing("does not exist").description.contains("modprobe tun"))

        // Without CAP_NET_ADMIN: what to do, and no advice to give vmtui the capability.
        let bridge = bridgeName
        let unprivileged: String = TapBridgeTests.withoutNetAdmin {
            do { _ = try TapBridge(io: io, vmName: "x", bridge: bridge); return "created" } catch { return "\(error)" }
        }
        #expect(unprivileged.contains("needs CAP_NET_ADMIN"))
        #expect(unprivileged.contains("ip tuntap add dev \(TapBridge.tapName(forVM: "x")) mode tap user"))
        #expect(!unprivileged.contains("setcap"))
        #expect(!FileManager.default.fileExists(atPath: "/sys/class/net/\(TapBridge.tapName(forVM: "x"))"))

        // A persistent TAP made for this user works without the capability; someone else's does not.
        let mine = "vmtp-\(tag)", theirs = "vmtq-\(tag)"
        TapBridgeTests.ip("tuntap", "add", "dev", mine, "mode", "tap", "user", "\(getuid())")
        TapBridgeTests.ip("tuntap", "add", "dev", theirs, "mode", "tap", "user", "65534")
        defer {
            TapBridgeTests.ip("tuntap", "del", "dev", mine, "mode", "tap")
            TapBridgeTests.ip("tuntap", "del", "dev", theirs, "mode", "tap")
        }
        let opened: [String] = TapBridgeTests.withoutNetAdmin {
            [mine, theirs, "vmtr-none"].map { name in
                do {
                    let tap = try TapBridge.open(io: io, vmName: "x", interface: name)
                    tap.close()
                    return "opened"
                } catch { return "\(error)" }
            }
        }
        #expect(opened[0] == "opened")
        #expect(opened[1].contains("is not yours") && opened[1].contains("ip tuntap add dev \(theirs) mode tap user"))
        #expect(opened[2].contains("host bridge vmtr-none does not exist"))
        #expect(FileManager.default.fileExists(atPath: "/sys/class/net/\(mine)")) // persistent: still there
    }

    /// A burst from the host larger than the frames a VM holds back (the 50 MiB wget stalled
    /// near its end: the TAP was read as fast as the kernel filled it, frames past the 512-frame
    /// backlog were dropped, and TCP's retransmissions of the tail backed off for seconds).
    /// The guest's ring has 7 free descriptors and the test plays the driver, handing them back
    /// only after the whole burst is in the TAP's queue; every datagram must arrive, in order.
    @Test func aBurstLongerThanTheBacklogWaitsInTheTAPQueueAndArrivesWhole() throws {
        let tap = "vmtf-\(tag)", port: UInt16 = 9_999, burst = 600
        TapBridgeTests.ip("tuntap", "add", "dev", tap, "mode", "tap")
        defer { TapBridgeTests.ip("tuntap", "del", "dev", tap, "mode", "tap") }
        try? "1".write(toFile: "/proc/sys/net/ipv6/conf/\(tap)/disable_ipv6", atomically: false, encoding: .utf8)
        TapBridgeTests.ip("addr", "add", "192.168.248.1/24", "dev", tap)
        TapBridgeTests.ip("link", "set", tap, "up")
        let machine = try MachineNetworkTests.machine("bridge:\(tap)")
        defer { machine.network?.close() }
        #expect(machine.warnings.isEmpty, "\(machine.warnings)")
        let nic = try #require(machine.network?.nic)
        try machine.lock.withLock { try MachineNetworkTests.setUpRings(nic, machine.memory, available: 7) }
        let mac = nic.mac.map { String($0, radix: 16) }.joined(separator: ":")
        #expect(TapBridgeTests.ip("neigh", "replace", "192.168.248.2", "lladdr", mac, "dev", tap, "nud", "permanent") == 0)

        // The burst: UDP datagrams numbered 0..<burst, routed out through the TAP.
        let sock = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(sock) }
        var to = sockaddr_in()
        to.sin_family = sa_family_t(AF_INET)
        to.sin_port = port.bigEndian
        to.sin_addr.s_addr = inet_addr("192.168.248.2")
        for n in 0..<burst {
            var payload = UInt32(n).bigEndian
            let sent = withUnsafePointer(to: &to) { address in
                address.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(sock, &payload, 4, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            #expect(sent == 4)
        }
        usleep(300_000) // the I/O thread reads what it wants of the TAP meanwhile

        // The driver: take what is in the ring, hand the descriptors back, until quiet.
        var seen: [UInt32] = [], next = 0, quiet = Date().addingTimeInterval(3)
        while Date() < quiet {
            let frames: [[UInt8]] = try machine.lock.withLock {
                let head = Int(nic.read(offset: E1000.rdh, width: 4))
                var frames: [[UInt8]] = []
                while next != head {
                    var frame = [UInt8](repeating: 0, count: 46)
                    try frame.withUnsafeMutableBytes { try machine.memory.dmaRead(MachineNetworkTests.buffers + UInt64(next * 2048), into: $0) }
                    frames.append(frame)
                    next = (next + 1) % 8
                }
                nic.write(offset: E1000.rdt, width: 4, value: UInt32((head + 7) % 8))
                return frames
            }
            for f in frames where f[12] == 0x08 && f[13] == 0x00 && f[23] == 17 && f[36] == UInt8(port >> 8) && f[37] == UInt8(port & 0xFF) {
                seen.append(UInt32(f[42]) << 24 | UInt32(f[43]) << 16 | UInt32(f[44]) << 8 | UInt32(f[45]))
            }
            if !frames.isEmpty { quiet = Date().addingTimeInterval(1) }
            usleep(1000)
        }
        #expect(seen.count == burst, "\(burst - seen.count) of \(burst) datagrams lost")
        #expect(seen == (0..<UInt32(seen.count)).map { $0 }, "out of order or lost in the middle")
        #expect(machine.lock.withLock { nic.read(offset: E1000.mpc, width: 4) } == 0, "the card missed frames")
    }
}
