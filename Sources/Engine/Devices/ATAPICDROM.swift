/// An ATAPI CD/DVD-ROM drive on an IDE channel or an AHCI port, reading a read-only medium (an ISO image) in
/// 2048-byte sectors. The PACKET protocol in PIO (byte-count-limited DRQ blocks with the
/// interrupt reason in the sector count register) and in DMA through the bus master; the MMC
/// commands SeaBIOS, boot loaders and Linux use; sense data for what it refuses.
public final class ATAPICDROM: IDEDrive {
    public static let sectorSize = 2048

    /// The sense key and additional sense code (ASC/ASCQ) of the last failed command.
    struct Sense: Equatable {
        var key: UInt8, asc: UInt8, ascq: UInt8 = 0
        static let none = Sense(key: 0, asc: 0)
        static let mediumNotPresent = Sense(key: 0x02, asc: 0x3A)
        static let readError = Sense(key: 0x03, asc: 0x11)
        static let invalidOpcode = Sense(key: 0x05, asc: 0x20)
        static let lbaOutOfRange = Sense(key: 0x05, asc: 0x21)
        static let invalidField = Sense(key: 0x05, asc: 0x24)
        static let savingNotSupported = Sense(key: 0x05, asc: 0x39)
        static let mediumChanged = Sense(key: 0x06, asc: 0x28)
        static let removalPrevented = Sense(key: 0x05, asc: 0x53, ascq: 0x02)
    }

    /// Where a packet command's data goes: an IDE channel (PIO blocks or its bus master), or a
    /// SATA port that moves the whole reply through its PRDT itself (`runPacket(sata:)`).
    enum PacketInterface {
        case ide(IDEChannel)
        case sata
    }

    /// How a packet command ended on a SATA port.
    enum SATAReply: Equatable {
        /// Data for the host (already cut to the command's allocation length).
        case data([UInt8])
        case done
        /// Check condition: the sense key goes in the error register's high nibble.
        case failed(senseKey: UInt8)
    }

    /// GET EVENT STATUS NOTIFICATION media event codes.
    private enum MediaEvent: UInt8 { case none = 0, ejectRequest = 1, newMedia = 2, mediaRemoval = 3 }

    public let model: String
    /// The inserted disc, nil when the tray is empty.
    public private(set) var medium: BlockDevice?
    /// The guest locked the tray (PREVENT ALLOW MEDIUM REMOVAL).
    public private(set) var isLocked = false
    /// The last storage error, for the machine's report.
    public private(set) var lastError: String?

    private(set) var sense = Sense.none
    private var unitAttention = false
    private var mediaEvent = MediaEvent.none

    // The data-in phase in progress: bytes ready to send, and sectors still to read for READ.
    private var outgoing: [UInt8] = []
    private var outgoingOffset = 0
    private var readLBA: UInt64 = 0
    private var readSectors = 0
    private var byteLimit = 0
    /// A packet command's data-in phase is running (IDENTIFY's data is not one: no final interrupt).
    private var inDataPhase = false
    private var sataReply = SATAReply.done

    public init(medium: BlockDevice?, model: String = "VMTUI DVD-ROM") {
        self.medium = medium
        self.model = model
    }

    public var isPacketDevice: Bool { true }
    public var signature: (count: UInt8, lbaLow: UInt8, lbaMid: UInt8, lbaHigh: UInt8) { (1, 1, 0x14, 0xEB) }

    /// Capacity of the medium in 2048-byte sectors (0 when empty).
    public var sectors: UInt64 { (medium?.size ?? 0) / UInt64(ATAPICDROM.sectorSize) }

    /// The disc in the drive at power-on: no media-change events.
    public func load(_ disc: BlockDevice?) {
        medium = disc
    }

    /// Changes the disc (nil ejects), as a user does from the host. The guest sees a unit
    /// attention (medium may have changed) on its next command and a media event.
    public func insert(_ disc: BlockDevice?) {
        medium = disc
        unitAttention = disc != nil
        mediaEvent = disc != nil ? .newMedia : .mediaRemoval
        isLocked = false
    }

    /// A hard reset of the machine: the tray unlocks and any transfer or sense is dropped; the
    /// disc stays in.
    public func reset() {
        isLocked = false
        sense = .none
        outgoing = []
        readSectors = 0
        inDataPhase = false
    }

    // MARK: ATA commands

    public func execute(_ command: UInt8, on channel: IDEChannel) {
        switch command {
        case 0xA0: // PACKET: ask for the 12-byte command packet (no interrupt for it)
            channel.startPIOWrite(bytes: 12, interrupt: false)
            channel.sectorCount = 0x01 // CoD
        case 0xA1: channel.startPIORead(identify())
        case 0x08: // DEVICE RESET: signature, BSY and DRDY clear, no interrupt
            setSignature(channel)
            channel.status = 0
            channel.error = 0x01
        case 0xEC: // IDENTIFY DEVICE is refused with the ATAPI signature, so hosts know
            setSignature(channel)
            channel.abort()
        case 0xE5: // CHECK POWER MODE: active
            channel.sectorCount = 0xFF
            channel.complete()
        case 0xEF, 0xE0...0xE3, 0xE6, 0xE7, 0xEA:
            channel.complete()
        default:
            channel.abort()
        }
    }

    private func setSignature(_ channel: IDEChannel) {
        let sig = signature
        channel.sectorCount = UInt16(sig.count); channel.lbaLow = UInt16(sig.lbaLow)
        channel.lbaMid = UInt16(sig.lbaMid); channel.lbaHigh = UInt16(sig.lbaHigh)
    }

    public func pioWriteFinished(on channel: IDEChannel) {
        let packet = channel.buffer
        let limit = Int(channel.lbaMid & 0xFF) | Int(channel.lbaHigh & 0xFF) << 8
        // 0 is not a valid limit; an odd one is rounded down (the spec's rule for non-final blocks).
        byteLimit = limit == 0 || limit == 0xFFFF ? 0xFFFE : limit & ~1
        if byteLimit == 0 { byteLimit = 2 }
        runPacket(packet, on: .ide(channel))
    }

    /// Runs a packet command for a SATA port (AHCI), which moves the reply itself.
    func runPacket(sata cdb: [UInt8]) -> SATAReply {
        sataReply = .done
        runPacket(cdb, on: .sata)
        return sataReply
    }

    public func pioReadFinished(on channel: IDEChannel) {
        if inDataPhase { sendNextBlock(on: channel) }
    }

    // MARK: Packet commands

    private func runPacket(_ cdb: [UInt8], on interface: PacketInterface) {
        let opcode = cdb[0]
        // Commands that report status rather than change it are exempt from a pending unit attention.
        let statusCommands: Set<UInt8> = [0x03, 0x12, 0x46, 0x4A]
        if opcode != 0x03 { sense = .none }
        if unitAttention && !statusCommands.contains(opcode) {
            unitAttention = false
            return fail(.mediumChanged, on: interface)
        }
        let needsMedium: Set<UInt8> = [0x00, 0x25, 0x28, 0xA8, 0x43, 0x2B, 0x51]
        if needsMedium.contains(opcode) && medium == nil { return fail(.mediumNotPresent, on: interface) }
        switch opcode {
        case 0x00, 0x2B, 0xBB: // TEST UNIT READY, SEEK(10), SET CD SPEED
            succeed(on: interface)
        case 0x03: // REQUEST SENSE reports, then clears, the current sense
            var current = sense
            if unitAttention { // a pending media change is reported (and cleared) here too
                current = .mediumChanged
                unitAttention = false
            }
            if current == .none && medium == nil { current = .mediumNotPresent }
            sense = .none
            send(requestSense(current), allocation: Int(cdb[4]), on: interface)
        case 0x12:
            // No vital product data pages: EVPD is refused, so hosts fall back to standard data.
            guard cdb[1] & 0x01 == 0 else { return fail(.invalidField, on: interface) }
            send(inquiry(), allocation: Int(be16(cdb, 3)), on: interface)
        case 0x1B: startStopUnit(cdb, on: interface)
        case 0x1E:
            isLocked = cdb[4] & 1 != 0
            succeed(on: interface)
        case 0x25:
            var data = [UInt8]()
            appendBE32(&data, UInt32(truncatingIfNeeded: max(sectors, 1) - 1))
            appendBE32(&data, UInt32(ATAPICDROM.sectorSize))
            send(data, allocation: 8, on: interface)
        case 0x28: read(lba: UInt64(be32(cdb, 2)), count: Int(be16(cdb, 7)), on: interface)
        case 0xA8: read(lba: UInt64(be32(cdb, 2)), count: Int(be32(cdb, 6)), on: interface)
        case 0x43: readTOC(cdb, on: interface)
        case 0x46: getConfiguration(cdb, on: interface)
        case 0x4A: getEventStatus(cdb, on: interface)
        case 0x5A: modeSense(cdb, on: interface)
        case 0x51: // READ DISC INFORMATION: a finalised disc, one session, one track
            var data: [UInt8] = [0, 32, 0x0E, 1, 1, 1, 1, 0x20]
            data += [UInt8](repeating: 0, count: 8) + [UInt8](repeating: 0xFF, count: 8) + [UInt8](repeating: 0, count: 10)
            send(data, allocation: Int(be16(cdb, 7)), on: interface)
        case 0xBD: // MECHANISM STATUS: no changer, tray state
            let header: [UInt8] = [0, medium == nil ? 0x10 : 0, 0, 0, 0, 0, 0, 0]
            send(header, allocation: Int(be16(cdb, 8)), on: interface)
        default:
            fail(.invalidOpcode, on: interface)
        }
    }

    private func startStopUnit(_ cdb: [UInt8], on interface: PacketInterface) {
        let loadEject = cdb[4] & 0x02 != 0, start = cdb[4] & 0x01 != 0
        if loadEject && !start && medium != nil {
            guard !isLocked else { return fail(.removalPrevented, on: interface) }
            medium = nil
            mediaEvent = .mediaRemoval
        }
        succeed(on: interface)
    }

    private func read(lba: UInt64, count: Int, on interface: PacketInterface) {
        guard let disc = medium else { return fail(.mediumNotPresent, on: interface) }
        guard lba + UInt64(count) <= sectors else { return fail(.lbaOutOfRange, on: interface) }
        guard count > 0 else { return succeed(on: interface) }
        guard case .ide(let channel) = interface else {
            // A SATA port takes the sectors in one piece (64 MiB at most, as IDE's DMA).
            guard count <= 32768 else { return fail(.invalidField, on: interface) }
            var data = [UInt8](repeating: 0, count: count * ATAPICDROM.sectorSize)
            do {
                try data.withUnsafeMutableBytes { try disc.read(at: lba * UInt64(ATAPICDROM.sectorSize), into: $0) }
            } catch {
                lastError = "\(error)"
                return fail(.readError, on: interface)
            }
            sataReply = .data(data)
            return
        }
        if channel.features & 1 != 0 {
            // DMA: the whole transfer in one go through the PRD table (64 MiB at most).
            guard count <= 32768 else { return fail(.invalidField, on: interface) }
            channel.sectorCount = 0x03
            channel.startDMA(toMemory: true, bytes: count * ATAPICDROM.sectorSize) { [self] data in
                do {
                    try data.withUnsafeMutableBytes { try disc.read(at: lba * UInt64(ATAPICDROM.sectorSize), into: $0) }
                    channel.ioCounters.addDiskRead(data.count)
                    return true
                } catch {
                    lastError = "\(error)"
                    fail(.readError, on: interface)
                    return false
                }
            }
            return
        }
        outgoing = []
        outgoingOffset = 0
        readLBA = lba
        readSectors = count
        sendNextBlock(on: channel)
    }

    /// Sends a short reply (at most `allocation` bytes) in the data-in phase.
    private func send(_ data: [UInt8], allocation: Int, on interface: PacketInterface) {
        let reply = Array(data.prefix(allocation))
        guard !reply.isEmpty else { return succeed(on: interface) }
        guard case .ide(let channel) = interface else {
            sataReply = .data(reply)
            return
        }
        if channel.features & 1 != 0 {
            channel.sectorCount = 0x03
            channel.startDMA(toMemory: true, bytes: reply.count) { data in
                data = reply
                return true
            }
            return
        }
        outgoing = reply
        outgoingOffset = 0
        readSectors = 0
        sendNextBlock(on: channel)
    }

    /// Offers the next DRQ block (at most the byte count limit), or ends the command.
    private func sendNextBlock(on channel: IDEChannel) {
        var available = outgoing.count - outgoingOffset
        if available < byteLimit && readSectors > 0 {
            // The host may have taken the disc out in the middle of a transfer.
            guard let disc = medium else { return fail(.mediumNotPresent, on: .ide(channel)) }
            // Top up from the disc: whole sectors, at least enough for one block.
            let wanted = max(1, min(readSectors, (byteLimit - available + ATAPICDROM.sectorSize - 1) / ATAPICDROM.sectorSize))
            var more = [UInt8](repeating: 0, count: wanted * ATAPICDROM.sectorSize)
            do {
                try more.withUnsafeMutableBytes { try disc.read(at: readLBA * UInt64(ATAPICDROM.sectorSize), into: $0) }
            } catch {
                lastError = "\(error)"
                readSectors = 0
                return fail(.readError, on: .ide(channel))
            }
            channel.ioCounters.addDiskRead(more.count)
            outgoing = Array(outgoing[outgoingOffset...]) + more
            outgoingOffset = 0
            readLBA += UInt64(wanted)
            readSectors -= wanted
            available = outgoing.count
        }
        guard available > 0 else {
            outgoing = []
            return succeed(on: .ide(channel))
        }
        let n = min(available, byteLimit)
        let block = Array(outgoing[outgoingOffset..<(outgoingOffset + n)])
        outgoingOffset += n
        channel.lbaMid = UInt16(n & 0xFF)
        channel.lbaHigh = UInt16(n >> 8)
        channel.sectorCount = 0x02 // IO, data to the host
        inDataPhase = true
        channel.startPIORead(block)
    }

    private func succeed(on interface: PacketInterface) {
        inDataPhase = false
        guard case .ide(let channel) = interface else { return }
        channel.sectorCount = 0x03 // IO | CoD: status phase
        channel.complete()
    }

    private func fail(_ reason: Sense, on interface: PacketInterface) {
        sense = reason
        inDataPhase = false
        outgoing = []
        readSectors = 0
        guard case .ide(let channel) = interface else {
            sataReply = .failed(senseKey: reason.key)
            return
        }
        channel.sectorCount = 0x03
        channel.abort(error: reason.key << 4)
    }

    // MARK: Replies

    private func requestSense(_ s: Sense) -> [UInt8] {
        var data = [UInt8](repeating: 0, count: 18)
        data[0] = 0x70 // current error, fixed format
        data[2] = s.key
        data[7] = 10
        data[12] = s.asc
        data[13] = s.ascq
        return data
    }

    private func inquiry() -> [UInt8] {
        var data: [UInt8] = [0x05, 0x80, 0x00, 0x21, 31, 0, 0, 0] // CD/DVD, removable, ATAPI
        data += Self.paddedASCII("VMTUI", 8) + Self.paddedASCII(model, 16) + Self.paddedASCII("1.0", 4)
        return data
    }

    private func readTOC(_ cdb: [UInt8], on interface: PacketInterface) {
        let msf = cdb[1] & 0x02 != 0
        let format = cdb[2] & 0x0F != 0 ? cdb[2] & 0x0F : cdb[9] >> 6
        let track = cdb[6]
        let allocation = Int(be16(cdb, 7))
        func address(_ lba: UInt64) -> [UInt8] {
            guard msf else { return bytesBE32(UInt32(truncatingIfNeeded: lba)) }
            let f = lba + 150
            return [0, UInt8(truncatingIfNeeded: f / 4500), UInt8(f / 75 % 60), UInt8(f % 75)]
        }
        var data: [UInt8] = [0, 0, 1, 1]
        switch format {
        case 0: // TOC: one data track and the lead-out
            guard track <= 1 || track == 0xAA else { return fail(.invalidField, on: interface) }
            if track <= 1 { data += [0, 0x14, 1, 0] + address(0) }
            data += [0, 0x14, 0xAA, 0] + address(sectors)
        case 1: // session info: one session, first track at 0
            data += [0, 0x14, 1, 0] + address(0)
        default:
            return fail(.invalidField, on: interface)
        }
        data[0] = UInt8((data.count - 2) >> 8)
        data[1] = UInt8((data.count - 2) & 0xFF)
        send(data, allocation: allocation, on: interface)
    }

    /// The current MMC profile: DVD-ROM for media larger than a CD, CD-ROM otherwise.
    private var currentProfile: UInt16 {
        guard medium != nil else { return 0 }
        return sectors > 333_000 ? 0x0010 : 0x0008
    }

    private func getConfiguration(_ cdb: [UInt8], on interface: PacketInterface) {
        let requestType = cdb[1] & 0x03
        let start = be16(cdb, 2)
        let profile = currentProfile
        let present = medium != nil
        // (feature code, current, body)
        let features: [(UInt16, Bool, [UInt8])] = [
            (0x0000, true, [0x00, 0x10, profile == 0x0010 ? 1 : 0, 0, 0x00, 0x08, profile == 0x0008 ? 1 : 0, 0]),
            (0x0001, true, bytesBE32(2) + [0x01, 0, 0, 0]), // Core: ATAPI, DBE
            (0x0002, true, [0x00, 0, 0, 0]), // Morphing
            (0x0003, true, [0x29, 0, 0, 0]), // Removable medium: tray, eject, lock
            (0x0010, present, bytesBE32(UInt32(ATAPICDROM.sectorSize)) + [0, profile == 0x0010 ? 16 : 1, 0, 0]),
        ]
        var data: [UInt8] = [0, 0, 0, 0, 0, 0, UInt8(profile >> 8), UInt8(profile & 0xFF)]
        for (code, current, body) in features where code >= start {
            if requestType == 1 && !current { continue }
            if requestType == 2 && code != start { continue }
            let version: UInt8 = code == 0x0001 ? 0x08 : (code == 0x0002 ? 0x04 : 0)
            let persistent: UInt8 = code <= 0x0003 ? 0x02 : 0
            data += [UInt8(code >> 8), UInt8(code & 0xFF), version | persistent | (current ? 1 : 0), UInt8(body.count)] + body
        }
        let length = bytesBE32(UInt32(data.count - 4))
        data.replaceSubrange(0..<4, with: length)
        send(data, allocation: Int(be16(cdb, 7)), on: interface)
    }

    private func getEventStatus(_ cdb: [UInt8], on interface: PacketInterface) {
        guard cdb[1] & 0x01 != 0 else { return fail(.invalidField, on: interface) } // only polled
        let supported: UInt8 = 0x10 // media class
        var data: [UInt8]
        if cdb[4] & supported != 0 {
            let status: UInt8 = medium != nil ? 0x02 : 0x00
            data = [0, 6, 0x04, supported, mediaEvent.rawValue, status, 0, 0]
            mediaEvent = .none
        } else {
            data = [0, 2, 0x80, supported] // no event available
        }
        send(data, allocation: Int(be16(cdb, 7)), on: interface)
    }

    private func modeSense(_ cdb: [UInt8], on interface: PacketInterface) {
        let control = cdb[2] >> 6, page = cdb[2] & 0x3F
        guard control != 3 else { return fail(.savingNotSupported, on: interface) }
        let changeable = control == 1
        let errorRecovery: [UInt8] = [0x01, 0x06, 0x00, 0x05, 0, 0, 0, 0]
        var capabilities: [UInt8] = [0x2A, 0x12, 0x3B, 0x00, 0x71, 0x60, 0x29 | (isLocked ? 0x02 : 0), 0x00]
        capabilities += [0x02, 0xC2, 0x01, 0x00, 0x02, 0x00, 0x02, 0xC2, 0, 0, 0, 0]
        var pages: [[UInt8]]
        switch page {
        case 0x01: pages = [errorRecovery]
        case 0x2A: pages = [capabilities]
        case 0x3F: pages = [errorRecovery, capabilities]
        default: return fail(.invalidField, on: interface)
        }
        if changeable { pages = pages.map { [$0[0], $0[1]] + [UInt8](repeating: 0, count: $0.count - 2) } }
        let body = pages.flatMap { $0 }
        let length = body.count + 6
        let header: [UInt8] = [UInt8(length >> 8), UInt8(length & 0xFF), medium == nil ? 0x70 : 0x01, 0, 0, 0, 0, 0]
        send(header + body, allocation: Int(be16(cdb, 7)), on: interface)
    }

    /// The 256-word IDENTIFY PACKET DEVICE block, little-endian bytes.
    func identify() -> [UInt8] {
        var w = [UInt16](repeating: 0, count: 256)
        w[0] = 0x85C0 // ATAPI, CD-ROM class (5), removable, accelerated DRQ, 12-byte packets
        Self.putString(&w, 10, 20, "VMTUI0002")
        Self.putString(&w, 23, 8, "1.0")
        Self.putString(&w, 27, 40, model)
        w[49] = 0x0300 // LBA and DMA
        w[53] = 0x0007
        w[62] = 0x0007
        w[63] = 0x0007 // multiword DMA 0-2
        w[64] = 0x0003 // PIO 3-4
        w[65] = 0xB4; w[66] = 0xB4; w[67] = 0x12C; w[68] = 0xB4
        w[71] = 30; w[72] = 30
        w[80] = 0x001E // ATAPI-1 to -4
        w[82] = 0x4214 // packet, removable media, NOP... as drives report
        w[88] = 0x003F // UDMA 0-5
        w[93] = 0x6001
        return Self.identifyBytes(w)
    }

    // MARK: Byte helpers

    private func be16(_ b: [UInt8], _ at: Int) -> UInt16 { UInt16(b[at]) << 8 | UInt16(b[at + 1]) }
    private func be32(_ b: [UInt8], _ at: Int) -> UInt32 { UInt32(be16(b, at)) << 16 | UInt32(be16(b, at + 2)) }
    private func bytesBE32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)] }
    private func appendBE32(_ data: inout [UInt8], _ v: UInt32) { data += bytesBE32(v) }
}
