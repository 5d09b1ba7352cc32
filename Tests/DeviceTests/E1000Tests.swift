import Testing
@testable import Engine

/// The 82540EM through its registers with guest RAM and a manual clock, no CPU (as QEMU's
/// qtest e1000 tests): reset state, EEPROM, transmit (legacy and TSO) to a recording backend,
/// receive into the ring with its interrupts, hostile rings and buffers, link changes.
@Suite struct E1000Tests {
    let memory: MemoryMap
    let ports = PortMap()
    let irqs = IRQRecorder()
    let bus: PCIBus
    let clock = ManualClock()
    let backend = RecordingBackend()
    let nic: E1000
    static let mac: [UInt8] = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56]
    /// INTA# of slot 3 reaches PIRQC.
    static let slot = 3
    static let irq = InterruptRouter.pirqBase + PCIBus.pirq(slot: slot, pin: 1)

    final class RecordingBackend: NetBackend {
        var frames: [[UInt8]] = []
        var receiver: (([[UInt8]]) -> Void)?
        var isLinkUp = true
        var linkChanged: ((Bool) -> Void)?
        func send(_ frame: [UInt8]) { frames.append(frame) }
        func close() {}
    }

    init() throws {
        memory = try MemoryMap(ramSize: 16 << 20)
        memory.mapRAM(from: 0, size: 16 << 20)
        nic = E1000(mac: E1000Tests.mac, memory: memory, clock: clock)
        bus = PCIBus(memory: memory, ports: ports, interrupts: irqs.router)
        bus.attach(nic, device: E1000Tests.slot)
        nic.backend = backend
        nic.configWrite(0x04, width: 2, value: 0x07) // I/O, memory, bus master
    }

    func r(_ offset: Int) -> UInt32 { nic.read(offset: offset, width: 4) }
    func w(_ offset: Int, _ value: UInt32) { nic.write(offset: offset, width: 4, value: value) }
    func put(_ address: UInt64, _ bytes: [UInt8]) throws { try bytes.withUnsafeBytes { try memory.dmaWrite(address, from: $0) } }
    func get(_ address: UInt64, _ count: Int) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        try bytes.withUnsafeMutableBytes { try memory.dmaRead(address, into: $0) }
        return bytes
    }
    var irqLevel: Bool { irqs.levels[E1000Tests.irq] }

    // MARK: Reset, PCI, EEPROM

    @Test func pciIdentityAndBARs() {
        #expect(nic.configRead(0x00, width: 4) == 0x100E_8086)
        #expect(nic.configRead(0x08, width: 4) >> 8 == 0x02_00_00)
        #expect(nic.configRead(0x3D, width: 1) == 1) // INTA#
        nic.configWrite(0x10, width: 4, value: 0xFFFF_FFFF)
        #expect(nic.configRead(0x10, width: 4) == 0xFFFE_0000) // 128 KiB memory
        nic.configWrite(0x14, width: 4, value: 0xFFFF_FFFF)
        #expect(nic.configRead(0x14, width: 4) == 0xFFFF_FFC1) // 64 bytes of I/O
        nic.configWrite(0x10, width: 4, value: 0xFEBC_0000)
        nic.configWrite(0x14, width: 4, value: 0xC000)
        // The same STATUS register through BAR0 and through IOADDR/IODATA.
        #expect(memory.read(0xFEBC_0008, width: 4) & 2 == 2)
        ports.write(0xC000, width: 4, value: 0x0008)
        #expect(ports.read(0xC004, width: 4) == memory.read(0xFEBC_0008, width: 4))
        ports.write(0xC000, width: 4, value: 0x5400)
        #expect(ports.read(0xC004, width: 4) == 0x1200_5452)
        // Moving BAR0 unmaps the old window.
        nic.configWrite(0x10, width: 4, value: 0xFEB0_0000)
        #expect(memory.read(0xFEBC_0008, width: 4) == 0xFFFF_FFFF)
        #expect(memory.read(0xFEB0_5404, width: 4) == 0x8000_5634)
    }

    @Test func resetValues() {
        w(E1000.ims, 0xFF)
        w(E1000.rctl, 0x2)
        w(E1000.ctrl, r(E1000.ctrl) | 1 << 26) // RST, self-clearing
        #expect(r(E1000.ctrl) & (1 << 26) == 0)
        #expect(r(E1000.ctrl) & 0x40 != 0)      // SLU
        #expect(r(E1000.status) & 0x2 != 0)     // LU
        #expect(r(E1000.status) & 0xC0 == 0x80) // 1000 Mb/s
        #expect(r(E1000.ims) == 0)
        #expect(r(E1000.icr) == 0)
        #expect(r(E1000.rctl) == 0)
        #expect(r(E1000.tctl) == 0)
        #expect(r(E1000.ral) == 0x1200_5452)
        #expect(r(E1000.rah) == 0x8000_5634)
        // MDIC: the Marvell PHY the driver matches, and a link in its status.
        w(E1000.mdic, 2 << 26 | 1 << 21 | 2 << 16)
        #expect(r(E1000.mdic) & 1 << 28 != 0)
        #expect(r(E1000.mdic) & 0xFFFF == 0x0141)
        w(E1000.mdic, 2 << 26 | 1 << 21 | 3 << 16)
        #expect(r(E1000.mdic) & 0xFFF0 == 0x0C20)
        w(E1000.mdic, 2 << 26 | 1 << 21 | 1 << 16)
        #expect(r(E1000.mdic) & 0x24 == 0x24)
        w(E1000.mdic, 2 << 26 | 2 << 21 | 1 << 16) // no PHY at address 2
        #expect(r(E1000.mdic) & 1 << 30 != 0)
    }

    func eerd(_ word: Int) -> UInt16 {
        w(E1000.eerd, UInt32(word) << 8 | 1)
        let value = r(E1000.eerd)
        #expect(value & 0x10 != 0) // DONE
        return UInt16(value >> 16)
    }

    /// The microwire read of Linux's e1000 for this chip: request and grant, CS, opcode 110,
    /// six address bits, sixteen data bits, each on a rising SK.
    func bitBang(_ word: Int) -> UInt16 {
        w(E1000.eecd, 0x40)
        #expect(r(E1000.eecd) & 0x80 != 0) // GNT
        w(E1000.eecd, 0x40 | 0x2)
        func clockOut(_ bit: Bool) {
            let di: UInt32 = bit ? 0x4 : 0
            w(E1000.eecd, 0x42 | di)
            w(E1000.eecd, 0x43 | di)
            w(E1000.eecd, 0x42 | di)
        }
        for bit in [true, true, false] { clockOut(bit) }
        for i in (0..<6).reversed() { clockOut(word >> i & 1 != 0) }
        var value: UInt16 = 0
        for _ in 0..<16 {
            w(E1000.eecd, 0x43)
            value = value << 1 | (r(E1000.eecd) & 0x8 != 0 ? 1 : 0)
            w(E1000.eecd, 0x42)
        }
        w(E1000.eecd, 0x40) // deselect
        w(E1000.eecd, 0)
        return value
    }

    @Test func eepromHoldsTheMACAndSumsToBABA() {
        let words = (0..<64).map(eerd)
        #expect(words[0] == 0x5452 && words[1] == 0x1200 && words[2] == 0x5634)
        #expect(words[0x0D] == 0x100E && words[0x0E] == 0x8086)
        #expect(words.reduce(UInt16(0), &+) == 0xBABA)
        for word in [0, 1, 2, 0x0E, 0x3F] { #expect(bitBang(word) == words[word]) }
    }

    // MARK: Transmit

    let txRing: UInt64 = 0x10000

    func setUpTransmitRing(count: Int = 8) {
        w(E1000.tdbal, UInt32(txRing))
        w(E1000.tdbah, 0)
        w(E1000.tdlen, UInt32(count * 16))
        w(E1000.tdh, 0)
        w(E1000.tdt, 0)
        w(E1000.tctl, 0x2 | 0x8) // EN, PSP
    }

    func legacyDescriptor(_ index: Int, buffer: UInt64, length: Int, command: UInt8,
                          css: UInt8 = 0, cso: UInt8 = 0) throws {
        var d = [UInt8](repeating: 0, count: 16)
        for i in 0..<8 { d[i] = UInt8(truncatingIfNeeded: buffer >> (8 * UInt64(i))) }
        d[8] = UInt8(length & 0xFF); d[9] = UInt8(length >> 8)
        d[10] = cso; d[11] = command; d[13] = css
        try put(txRing + UInt64(16 * index), d)
    }

    @Test func legacyTransmitReachesTheBackendWithWriteBackAndTXDW() throws {
        setUpTransmitRing()
        w(E1000.ims, E1000.causeTXDW)
        let frame = (0..<60).map { UInt8(truncatingIfNeeded: $0 * 7) }
        try put(0x20000, frame)
        try legacyDescriptor(0, buffer: 0x20000, length: 60, command: 0x0B) // EOP, IFCS, RS
        #expect(!irqLevel)
        w(E1000.tdt, 1)
        #expect(backend.frames == [frame])
        #expect(try get(txRing + 12, 1)[0] & 1 == 1) // DD
        #expect(r(E1000.tdh) == 1)
        #expect(irqLevel)
        let icr = r(E1000.icr)
        #expect(icr & E1000.causeTXDW != 0)
        #expect(!irqLevel)
        #expect(r(E1000.icr) == 0)
    }

    @Test func legacyChecksumInsertionAndPacketsOverSeveralDescriptors() throws {
        setUpTransmitRing()
        // A UDP-like body split over two buffers; IC asks for the sum from byte 14 stored at 16.
        let frame = (0..<100).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ 1) }
        var zeroed = frame
        zeroed[16] = 0; zeroed[17] = 0
        try put(0x20000, Array(zeroed[0..<40]))
        try put(0x21000, Array(zeroed[40...]))
        try legacyDescriptor(0, buffer: 0x20000, length: 40, command: 0x04, css: 14, cso: 16)
        try legacyDescriptor(1, buffer: 0x21000, length: 60, command: 0x0B)
        w(E1000.tdt, 2)
        #expect(backend.frames.count == 1)
        let sent = backend.frames[0]
        #expect(sent.count == 100)
        #expect(E1000Tests.onesComplementSum(Array(sent[14...])) == 0xFFFF)
        #expect(Array(sent[18...]) == Array(frame[18...]))
    }

    /// An IPv4/TCP packet as Linux's e1000 hands it over for TSO: IP checksum zero, the TCP
    /// checksum field holding the pseudo-header sum without the length.
    func tsoPacket(payload: Int) -> [UInt8] {
        var p = [UInt8](repeating: 0, count: 54 + payload)
        p[0..<6] = [0x52, 0x54, 0x00, 0xAA, 0xBB, 0xCC]
        p[6..<12] = ArraySlice(E1000Tests.mac)
        p[12] = 0x08; p[13] = 0x00
        p[14] = 0x45; p[22] = 64; p[23] = 6
        p[18] = 0x12; p[19] = 0x34 // IP id
        p[26..<30] = [10, 0, 2, 15]; p[30..<34] = [10, 0, 2, 2]
        p[34] = 0x9C; p[35] = 0x40; p[36] = 0x00; p[37] = 80
        p[38..<42] = [0xFF, 0xFF, 0xFC, 0x00] // sequence number that wraps
        p[46] = 0x50; p[47] = 0x19 // data offset 5; ACK, PSH, FIN
        p[48] = 0xFF; p[49] = 0xFF
        for i in 0..<payload { p[54 + i] = UInt8(truncatingIfNeeded: i * 31 + 5) }
        let pseudo = E1000Tests.onesComplementSum(Array(p[26..<34]) + [0, 6])
        p[50] = UInt8(pseudo >> 8); p[51] = UInt8(pseudo & 0xFF)
        return p
    }

    @Test func tsoSegmentsWithFixedHeadersAndValidChecksums() throws {
        setUpTransmitRing()
        let payload = 2500, mss = 1000
        let packet = tsoPacket(payload: payload)
        try put(0x20000, Array(packet[0..<700]))
        try put(0x30000, Array(packet[700...]))
        // Context: IP at 14 (checksum at 24, header ends at 33), TCP at 34 (checksum at 50).
        var context = [UInt8](repeating: 0, count: 16)
        context[0] = 14; context[1] = 24; context[2] = 33; context[3] = 0
        context[4] = 34; context[5] = 50
        let contextCommand: UInt32 = UInt32(payload) | 0x0 << 20 | (0x01 | 0x02 | 0x04 | 0x20 | 0x08) << 24
        for i in 0..<4 { context[8 + i] = UInt8(truncatingIfNeeded: contextCommand >> (8 * UInt32(i))) }
        context[13] = 54; context[14] = UInt8(mss & 0xFF); context[15] = UInt8(mss >> 8)
        try put(txRing, context)
        func data(_ index: Int, _ buffer: UInt64, _ length: Int, eop: Bool) throws {
            var d = [UInt8](repeating: 0, count: 16)
            for i in 0..<8 { d[i] = UInt8(truncatingIfNeeded: buffer >> (8 * UInt64(i))) }
            let command = UInt32(length) | 1 << 20 | ((eop ? 0x01 : 0) | 0x04 | 0x20 | 0x08) << 24
            for i in 0..<4 { d[8 + i] = UInt8(truncatingIfNeeded: command >> (8 * UInt32(i))) }
            d[13] = 0x03 // IXSM, TXSM
            try put(txRing + UInt64(16 * index), d)
        }
        try data(1, 0x20000, 700, eop: false)
        try data(2, 0x30000, packet.count - 700, eop: true)
        w(E1000.tdt, 3)

        #expect(backend.frames.count == 3)
        var reassembled: [UInt8] = []
        for (i, f) in backend.frames.enumerated() {
            let chunk = min(mss, payload - i * mss)
            #expect(f.count == 54 + chunk)
            #expect(Array(f[0..<14]) == Array(packet[0..<14]))
            #expect(Int(f[16]) << 8 | Int(f[17]) == 40 + chunk)          // IP total length
            #expect(Int(f[18]) << 8 | Int(f[19]) == 0x1234 + i)          // IP id
            #expect(E1000Tests.onesComplementSum(Array(f[14..<34])) == 0xFFFF)      // IP header checksum
            let seq = UInt32(f[38]) << 24 | UInt32(f[39]) << 16 | UInt32(f[40]) << 8 | UInt32(f[41])
            #expect(seq == 0xFFFF_FC00 &+ UInt32(i * mss))
            #expect(f[47] == (i == 2 ? 0x19 : 0x10))                     // FIN, PSH only on the last
            let tcpLength = f.count - 34
            let pseudo = Array(f[26..<34]) + [0, 6, UInt8(tcpLength >> 8), UInt8(tcpLength & 0xFF)]
            #expect(E1000Tests.onesComplementSum(pseudo + Array(f[34...])) == 0xFFFF) // TCP checksum
            reassembled += f[54...]
        }
        #expect(reassembled == Array(packet[54...]))
        for i in 0..<3 { #expect(try get(txRing + UInt64(16 * i) + 12, 1)[0] & 1 == 1) }
    }

    // MARK: Receive

    let rxRing: UInt64 = 0x50000
    func rxBuffer(_ i: Int) -> UInt64 { 0x60000 + UInt64(i) * 2048 }

    func setUpReceiveRing(count: Int = 8, tail: Int = 7, rctl: UInt32 = 0x2 | 1 << 15 | 1 << 26) throws {
        for i in 0..<count {
            var d = [UInt8](repeating: 0, count: 16)
            for b in 0..<8 { d[b] = UInt8(truncatingIfNeeded: rxBuffer(i) >> (8 * UInt64(b))) }
            try put(rxRing + UInt64(16 * i), d)
        }
        w(E1000.rdbal, UInt32(rxRing))
        w(E1000.rdbah, 0)
        w(E1000.rdlen, UInt32(count * 16))
        w(E1000.rdh, 0)
        w(E1000.rdt, UInt32(tail))
        w(E1000.rctl, rctl) // EN, BAM, SECRC, 2 KiB buffers
    }

    func frame(to destination: [UInt8], length: Int = 100) -> [UInt8] {
        destination + [0x02, 0, 0, 0, 0, 1, 0x08, 0x00] + (0..<(length - 14)).map { UInt8(truncatingIfNeeded: $0 + 3) }
    }

    @Test func receiveStoresTheFrameAndRaisesRXT0ReadToClear() throws {
        try setUpReceiveRing()
        w(E1000.ims, E1000.causeRXT0)
        let f = frame(to: E1000Tests.mac)
        #expect(nic.receive(f))
        #expect(try get(rxBuffer(0), f.count) == f)
        let status = try get(rxRing + 8, 8)
        #expect(Int(status[0]) | Int(status[1]) << 8 == f.count)
        #expect(status[4] & 0x03 == 0x03) // DD, EOP
        #expect(r(E1000.rdh) == 1)
        #expect(irqLevel)
        #expect(r(E1000.icr) & E1000.causeRXT0 != 0)
        #expect(!irqLevel)
        #expect(r(E1000.icr) == 0)
        // Broadcast is accepted (BAM); another station's unicast is filtered.
        #expect(nic.receive(frame(to: [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF])))
        #expect(!nic.receive(frame(to: [0x52, 0x54, 0x00, 0x99, 0x99, 0x99])))
        #expect(r(E1000.rdh) == 2)
    }

    @Test func receiveAppendsTheFCSAndSplitsLongFramesOverBuffers() throws {
        try setUpReceiveRing(rctl: 0x2 | 1 << 15 | 3 << 16 | 1 << 5) // 256-byte buffers, LPE
        let f = frame(to: E1000Tests.mac, length: 600)
        #expect(nic.receive(f))
        // 604 bytes with the FCS: 256 + 256 + 92, EOP on the last.
        var stored: [UInt8] = []
        for i in 0..<3 {
            let d = try get(rxRing + UInt64(16 * i) + 8, 8)
            let length = Int(d[0]) | Int(d[1]) << 8
            #expect(length == [256, 256, 92][i])
            #expect(d[4] & 0x02 == (i == 2 ? 0x02 : 0))
            stored += try get(rxBuffer(i), length)
        }
        #expect(Array(stored[0..<600]) == f)
        let fcs = UInt32(stored[600]) | UInt32(stored[601]) << 8 | UInt32(stored[602]) << 16 | UInt32(stored[603]) << 24
        #expect(fcs == E1000Tests.crc32(f))
    }

    @Test func aFullRingDropsTheFrameWithRXO() throws {
        try setUpReceiveRing(count: 8, tail: 2)
        w(E1000.ims, E1000.causeRXO)
        #expect(nic.receive(frame(to: E1000Tests.mac)))
        #expect(nic.receive(frame(to: E1000Tests.mac)))
        #expect(!irqLevel)
        let before = try get(rxBuffer(2), 100)
        #expect(!nic.receive(frame(to: E1000Tests.mac, length: 90)))
        #expect(try get(rxBuffer(2), 100) == before)
        #expect(r(E1000.rdh) == 2)
        #expect(irqLevel)
        #expect(r(E1000.icr) & E1000.causeRXO != 0)
        #expect(r(E1000.mpc) == 1)
        #expect(r(E1000.mpc) == 0) // statistics clear on read
        w(E1000.rdt, 5) // the driver gives buffers back
        #expect(nic.receive(frame(to: E1000Tests.mac)))
    }

    // MARK: Hostile rings and buffers

    @Test func ringsAndBuffersOutsideRAMAreRefusedWithoutCrashing() throws {
        setUpTransmitRing()
        // A transmit buffer outside RAM: the frame is dropped, the descriptor still completes.
        try legacyDescriptor(0, buffer: 0xF000_0000, length: 60, command: 0x0B)
        try legacyDescriptor(1, buffer: 0x1_0000_0000, length: 60, command: 0x0B)
        try legacyDescriptor(2, buffer: 0x20000, length: 0, command: 0x0B) // zero length
        w(E1000.tdt, 3)
        #expect(backend.frames.isEmpty)
        #expect(r(E1000.tdh) == 3)
        // The ring itself outside RAM, or a tail past the ring: the ring stops.
        w(E1000.tdbal, 0xFFFF_F000)
        w(E1000.tdh, 0)
        w(E1000.tdt, 1)
        #expect(r(E1000.tdh) == 0)
        w(E1000.tdbal, UInt32(txRing))
        w(E1000.tdt, 200)
        #expect(r(E1000.tdh) == 0)
        #expect(backend.frames.isEmpty)
        // A packet longer than the chip handles, gathered from many descriptors: dropped.
        setUpTransmitRing(count: 16)
        for i in 0..<15 { try legacyDescriptor(i, buffer: 0x100000, length: 0xF000, command: i == 14 ? 0x0B : 0) }
        w(E1000.tdt, 15)
        #expect(backend.frames.isEmpty)
        #expect(r(E1000.tdh) == 15)

        // A receive ring outside RAM, or a buffer outside RAM (error bit, nothing written).
        try setUpReceiveRing()
        w(E1000.rdbal, 0xFFFF_0000)
        #expect(!nic.receive(frame(to: E1000Tests.mac)))
        w(E1000.rdbal, UInt32(rxRing))
        try put(rxRing, [0, 0, 0, 0xF0, 0, 0, 0, 0])
        #expect(!nic.receive(frame(to: E1000Tests.mac)))
        let d = try get(rxRing + 8, 8)
        #expect(d[4] & 0x01 == 0x01 && d[5] & 0x80 == 0x80) // DD, RXE
        #expect(nic.receive(frame(to: E1000Tests.mac)))     // the next buffer is fine
        w(E1000.rdlen, 0)
        #expect(!nic.receive(frame(to: E1000Tests.mac)))
    }

    // MARK: Link and interrupt moderation

    @Test func linkDownAndUpRaiseLSC() throws {
        try setUpReceiveRing()
        w(E1000.ims, E1000.causeLSC)
        nic.setLink(up: false)
        #expect(r(E1000.status) & 2 == 0)
        #expect(irqLevel)
        #expect(r(E1000.icr) & E1000.causeLSC != 0)
        w(E1000.mdic, 2 << 26 | 1 << 21 | 1 << 16)
        #expect(r(E1000.mdic) & 0x04 == 0) // PHY: no link
        #expect(!nic.receive(frame(to: E1000Tests.mac)))
        nic.setLink(up: true)
        #expect(r(E1000.status) & 2 != 0)
        #expect(r(E1000.icr) & E1000.causeLSC != 0)
        #expect(nic.receive(frame(to: E1000Tests.mac)))
    }

    @Test func itrSpacesInterruptsOnTheMachineClock() {
        w(E1000.ims, E1000.causeTXDW)
        w(E1000.itr, 1000) // 256 us
        w(E1000.ics, E1000.causeTXDW)
        #expect(irqLevel)
        _ = r(E1000.icr)
        #expect(!irqLevel)
        clock.advance(by: 100_000)
        w(E1000.ics, E1000.causeTXDW)
        #expect(!irqLevel)
        #expect(nic.nextDeadline() == 256_000)
        clock.advance(by: 156_000)
        nic.fire(now: clock.nanoseconds)
        #expect(irqLevel)
        w(E1000.imc, E1000.causeTXDW)
        #expect(!irqLevel)
    }

    /// The ones'-complement sum of big-endian 16-bit words, folded (written here independently of
    /// the device's InternetChecksum): a header with a valid checksum sums to 0xFFFF.
    static func onesComplementSum(_ bytes: [UInt8]) -> UInt16 {
        var words = stride(from: 0, to: bytes.count, by: 2).map { i -> Int in
            Int(bytes[i]) << 8 | (i + 1 < bytes.count ? Int(bytes[i + 1]) : 0)
        }
        var total = 0
        while let w = words.popLast() {
            total += w
            if total > 0xFFFF { total -= 0xFFFF }
        }
        return UInt16(total)
    }

    /// The Ethernet FCS, bit by bit (reflected polynomial 0xEDB88320).
    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }
}
