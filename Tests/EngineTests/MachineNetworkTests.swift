import Foundation
import Testing
@testable import Engine

/// The network card in the PC, driven through its registers with no CPU: the E1000 answers at
/// 00:03.0 only when the VM has a network, a DHCP discover the guest transmits through NAT
/// comes back into the receive ring from the I/O thread, a full ring holds frames back until
/// the driver returns descriptors, and a bridge that does not exist leaves the link down with
/// the fix until a switch to NAT brings it up.
@Suite(.serialized) struct MachineNetworkTests {
    static let firmware = Firmware(biosPath: "bios", bios: [UInt8](repeating: 0, count: 0x20000),
                                   vgaBiosPath: "vga", vgaBios: [UInt8](repeating: 0, count: 0x8000))
    static let ring: UInt64 = 0x10000, buffers: UInt64 = 0x20000, txRing: UInt64 = 0x30000, txFrame: UInt64 = 0x40000

    static func machine(_ network: String) throws -> Machine {
        var config = VMConfig(name: "net-test")
        config.memoryMiB = 16
        config.network = try VMConfig.parseNetwork(network)
        config.macAddress = try MACAddress(parsing: "52:54:00:12:34:56")
        return try Machine(config: config, firmware: firmware, timeMode: .deterministic(nanosecondsPerInstruction: 10),
                           unixTime: 1_700_000_000) { Interpreter(environment: $0) }
    }

    /// PCI configuration dword `offset` of 00:03.0 through ports 0xCF8/0xCFC.
    static func slot3(_ machine: Machine, _ offset: UInt32) -> UInt32 {
        machine.ports.write(0xCF8, width: 4, value: 0x8000_0000 | 3 << 11 | offset)
        return machine.ports.read(0xCFC, width: 4)
    }

    /// Eight receive descriptors of 2 KiB buffers (`available` of them handed to the card),
    /// broadcast accepted, FCS stripped; transmit on.
    static func setUpRings(_ nic: E1000, _ memory: MemoryMap, available: UInt32) throws {
        nic.configWrite(0x04, width: 2, value: 0x07)
        for i in 0..<8 { try memory.dmaWrite(ring + UInt64(i * 16), value: buffers + UInt64(i * 2048)) }
        nic.write(offset: E1000.rdbal, width: 4, value: UInt32(ring))
        nic.write(offset: E1000.rdlen, width: 4, value: 128)
        nic.write(offset: E1000.rdt, width: 4, value: available)
        nic.write(offset: E1000.rctl, width: 4, value: E1000.rctlEN | E1000.rctlBAM | E1000.rctlSECRC)
        nic.write(offset: E1000.tdbal, width: 4, value: UInt32(txRing))
        nic.write(offset: E1000.tdlen, width: 4, value: 128)
        nic.write(offset: E1000.tctl, width: 4, value: 0x2)
    }

    /// The guest transmits `frame` from descriptor 0 (EOP, insert FCS, report status).
    static func transmit(_ frame: [UInt8], _ nic: E1000, _ memory: MemoryMap) throws {
        try frame.withUnsafeBytes { try memory.dmaWrite(txFrame, from: $0) }
        try memory.dmaWrite(txRing, value: txFrame)
        try memory.dmaWrite(txRing + 8, value: UInt64(frame.count) | UInt64(0x0B) << 24)
        nic.write(offset: E1000.tdt, width: 4, value: 1)
    }

    static func waitFor(_ seconds: Double, _ condition: () -> Bool) -> Bool {
        let end = Date().addingTimeInterval(seconds)
        while Date() < end {
            if condition() { return true }
            usleep(10_000)
        }
        return condition()
    }

    @Test func theCardIsAt00_03_0OnlyWithANetwork() throws {
        let none = try MachineNetworkTests.machine("none")
        #expect(none.network == nil)
        #expect(MachineNetworkTests.slot3(none, 0) == 0xFFFF_FFFF)
        let nat = try MachineNetworkTests.machine("nat")
        defer { nat.network?.close() }
        #expect(MachineNetworkTests.slot3(nat, 0) == 0x100E_8086)
        #expect(MachineNetworkTests.slot3(nat, 0x3C) >> 8 & 0xFF == 1) // INTA#
        #expect(nat.warnings.isEmpty, "\(nat.warnings)")
    }

    @Test func aDHCPDiscoverThroughNATComesBackIntoTheRing() throws {
        let machine = try MachineNetworkTests.machine("nat")
        defer { machine.network?.close() }
        let nic = try #require(machine.network?.nic)
        try machine.lock.withLock {
            try MachineNetworkTests.setUpRings(nic, machine.memory, available: 7)
            try MachineNetworkTests.transmit(SlirpNATTests.dhcpDiscover(xid: 0x1234_5678), nic, machine.memory)
        }
        let received = MachineNetworkTests.waitFor(5) { machine.lock.withLock { nic.read(offset: E1000.rdh, width: 4) } > 0 }
        #expect(received, "no frame reached the receive ring")
        var frame = [UInt8](repeating: 0, count: 342)
        try frame.withUnsafeMutableBytes { try machine.memory.dmaRead(MachineNetworkTests.buffers, into: $0) }
        let bootp = 14 + 20 + 8
        #expect(frame[bootp] == 2 && Array(frame[(bootp + 4)..<(bootp + 8)]) == [0x12, 0x34, 0x56, 0x78], "not the offer")
        #expect(Array(frame[(bootp + 16)..<(bootp + 20)]) == [10, 0, 2, 15])
        let totals = machine.ioCounters.totals
        #expect(totals.networkSent > 300 && totals.networkReceived > 300, "\(totals)")
    }

    @Test func aFullRingHoldsFramesBackUntilTheDriverReturnsDescriptors() throws {
        let machine = try MachineNetworkTests.machine("nat")
        defer { machine.network?.close() }
        let nic = try #require(machine.network?.nic)
        try machine.lock.withLock {
            try MachineNetworkTests.setUpRings(nic, machine.memory, available: 0)
            try MachineNetworkTests.transmit(SlirpNATTests.dhcpDiscover(xid: 1), nic, machine.memory)
        }
        usleep(500_000) // slirp answers at once; the ring has no descriptor for it
        #expect(machine.lock.withLock { nic.read(offset: E1000.rdh, width: 4) } == 0)
        #expect(machine.lock.withLock { nic.read(offset: E1000.mpc, width: 4) } == 0, "the frame was dropped as missed")
        machine.lock.withLock { nic.write(offset: E1000.rdt, width: 4, value: 7) }
        #expect(machine.lock.withLock { nic.read(offset: E1000.rdh, width: 4) } > 0, "the held-back offer was not delivered")
    }

    @Test func aMissingBridgeLeavesTheLinkDownUntilASwitchToNAT() throws {
        let machine = try MachineNetworkTests.machine("bridge:vmtuinobr0")
        defer { machine.network?.close() }
        let nic = try #require(machine.network?.nic)
        let warning = machine.warnings.joined()
        #expect(warning.contains("vmtuinobr0 does not exist") && warning.contains("network=nat"), "\(warning)")
        #expect(machine.lock.withLock { nic.read(offset: E1000.status, width: 4) } & 2 == 0, "the link is up")

        let said = FrameSink()
        machine.lock.withLock {
            machine.switchNetwork(to: VMConfig.Network(mode: .nat)) { text, isError in
                said.append(Array((isError ? "error: " : "").utf8) + Array(text.utf8))
            }
        }
        let notice = said.first { _ in true }.map { String(decoding: $0, as: UTF8.self) } ?? "no answer"
        #expect(notice.hasPrefix("network switched to NAT") && notice.contains("renew"), "\(notice)")
        #expect(machine.network?.network.mode == .nat)
        #expect(MachineNetworkTests.waitFor(5) { machine.lock.withLock { nic.read(offset: E1000.status, width: 4) } & 2 != 0 },
                "the link did not come up after the switch")
        #expect(nic.mac == [0x52, 0x54, 0x00, 0x12, 0x34, 0x56])
    }

    /// `vmtui set NAME forwards=...` on a running VM: NAT listens on the new host ports of
    /// 127.0.0.1 at once (TCP and UDP) and lets go of the removed ones, with no restart.
    @Test func portForwardsChangeWhileTheVMRuns() throws {
        let machine = try MachineNetworkTests.machine("nat")
        defer { machine.network?.close() }
        let tcp = SlirpNATTests.freePort(), udp = SlirpNATTests.freePort()
        func set(_ text: String) throws -> String {
            let said = FrameSink()
            let forwards = try VMConfig.parsePortForwards(text)
            machine.lock.withLock {
                machine.setPortForwards(forwards) { text, isError in said.append(Array((isError ? "error: " : "").utf8) + Array(text.utf8)) }
            }
            return said.first { _ in true }.map { String(decoding: $0, as: UTF8.self) } ?? "no answer"
        }
        /// Whether something on the host holds UDP 127.0.0.1:`port` (a bind there fails).
        func udpTaken(_ port: Int) -> Bool {
            let s = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
            defer { close(s) }
            var address = SlirpNATTests.loopback(port: port)
            return withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(s, $0, 16) } } != 0
        }
        func tcpListening(_ port: Int) -> Bool {
            let (s, error) = SlirpNATTests.connect(port: port, blocking: true)
            close(s)
            return error == 0
        }
        #expect(!tcpListening(tcp) && !udpTaken(udp))

        let added = try set("tcp:\(tcp):80,udp:\(udp):53")
        #expect(added == "port forwards now tcp 127.0.0.1:\(tcp)->80, udp 127.0.0.1:\(udp)->53", "\(added)")
        #expect(tcpListening(tcp) && udpTaken(udp))
        #expect(machine.network?.network.portForwards.count == 2)

        let removed = try set("udp:\(udp):53")
        #expect(removed == "port forwards now udp 127.0.0.1:\(udp)->53", "\(removed)")
        #expect(!tcpListening(tcp) && udpTaken(udp))

        // A host port something else holds: said, with the fix; the rest still applies.
        let (holder, taken) = SlirpNATTests.listener()
        defer { close(holder) }
        let clash = try set("tcp:\(taken):22")
        #expect(clash.hasPrefix("error: ") && clash.contains("\(taken)") && clash.contains("choose another host port"), "\(clash)")
        #expect(!udpTaken(udp))
    }
}
