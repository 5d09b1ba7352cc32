/// Transmit: the descriptor ring from TDH to TDT, legacy descriptors and extended context/data
/// descriptors, IP and TCP/UDP checksum insertion, and TCP segmentation (TSO).
extension E1000 {
    static let tctlEN: UInt32 = 1 << 1
    /// The largest packet gathered for TSO (64 KiB of payload and its headers); anything
    /// longer is garbage and dropped.
    static let maxTransmitPacket = 0x10000 + 256
    /// The largest frame sent without segmentation (the chip's 16 KiB jumbo limit).
    static let maxTransmitFrame = 16384

    // Descriptor command bits (legacy CMD, extended DCMD in bits 31:24 of cmd_and_length).
    static let cmdEOP: UInt32 = 0x01, cmdIC: UInt32 = 0x04, cmdRS: UInt32 = 0x08
    static let cmdTSE: UInt32 = 0x04, cmdDEXT: UInt32 = 0x20, cmdVLE: UInt32 = 0x40

    /// Processes descriptors from TDH up to TDT. A ring outside RAM, or a head or tail past the
    /// ring's end, stops the ring where it is (the guest's driver sees a hang, the host nothing).
    func transmit() {
        guard reg(E1000.tctl) & E1000.tctlEN != 0, config.busMasterEnabled else { return }
        let count = Int(reg(E1000.tdlen)) / 16
        let base = UInt64(reg(E1000.tdbah)) << 32 | UInt64(reg(E1000.tdbal) & ~0xF)
        guard count > 0, memory.dmaCheck(base, length: count * 16, write: true) else { return }
        var causes: UInt32 = 0
        var processed = false
        while reg(E1000.tdh) != reg(E1000.tdt) {
            let head = Int(reg(E1000.tdh))
            guard head < count, Int(reg(E1000.tdt)) < count else { break }
            let address = base + UInt64(head * 16)
            guard let low = try? memory.dmaRead(address, as: UInt64.self),
                  let high = try? memory.dmaRead(address + 8, as: UInt64.self) else { break }
            if process(low: low, high: high) {
                try? memory.dmaWrite(address + 12, value: UInt8(1)) // DD
                causes |= E1000.causeTXDW
            }
            setReg(E1000.tdh, UInt32((head + 1) % count))
            processed = true
        }
        if processed, reg(E1000.tdh) == reg(E1000.tdt) { causes |= E1000.causeTXQE }
        if causes != 0 { raise(causes) }
    }

    /// One descriptor; returns whether it asked for a status write-back (RS).
    private func process(low: UInt64, high: UInt64) -> Bool {
        let cmdAndLength = UInt32(truncatingIfNeeded: high)
        let command: UInt32
        let length: Int
        if cmdAndLength >> 24 & E1000.cmdDEXT != 0 {
            command = cmdAndLength >> 24
            length = Int(cmdAndLength & 0xF_FFFF)
            switch (cmdAndLength >> 20) & 0xF {
            case 0: loadContext(low: low, high: high); return command & E1000.cmdRS != 0
            case 1:
                if !tx.started {
                    let options = UInt8(truncatingIfNeeded: high >> 40)
                    tx.segmentation = command & E1000.cmdTSE != 0
                    tx.insertIPChecksum = options & 0x01 != 0
                    tx.insertL4Checksum = options & 0x02 != 0
                }
            default: return command & E1000.cmdRS != 0 // unknown type: ignored
            }
        } else {
            command = UInt32(truncatingIfNeeded: high >> 24) & 0xFF
            length = Int(high & 0xFFFF)
            if !tx.started, command & E1000.cmdIC != 0 {
                tx.legacyChecksum = (Int(truncatingIfNeeded: (high >> 40) & 0xFF), Int(truncatingIfNeeded: (high >> 16) & 0xFF))
            }
        }
        if !tx.started, command & E1000.cmdVLE != 0, reg(E1000.ctrl) & E1000.ctrlVME != 0 {
            tx.vlanTag = UInt16(truncatingIfNeeded: high >> 48)
        }
        tx.started = true
        gather(from: low, length: length)
        if command & E1000.cmdEOP != 0 {
            if !tx.dropping, !tx.packet.isEmpty { sendPacket() }
            tx.endPacket()
        }
        return command & E1000.cmdRS != 0
    }

    private func loadContext(low: UInt64, high: UInt64) {
        tx.ipcss = Int(low & 0xFF)
        tx.ipcso = Int((low >> 8) & 0xFF)
        tx.ipcse = Int((low >> 16) & 0xFFFF)
        tx.tucss = Int((low >> 32) & 0xFF)
        tx.tucso = Int((low >> 40) & 0xFF)
        tx.tucse = Int((low >> 48) & 0xFFFF)
        let tucmd = UInt32(truncatingIfNeeded: high) >> 24
        tx.isTCP = tucmd & 0x01 != 0
        tx.isIPv4 = tucmd & 0x02 != 0
        tx.headerLength = Int((high >> 40) & 0xFF)
        tx.mss = Int((high >> 48) & 0xFFFF)
    }

    /// Appends a data buffer to the packet; a buffer outside RAM or past the size limit drops
    /// the whole packet (the rest of its descriptors still complete).
    private func gather(from address: UInt64, length: Int) {
        guard !tx.dropping, length > 0 else { return }
        let old = tx.packet.count
        guard old + length <= E1000.maxTransmitPacket else { tx.dropping = true; return }
        tx.packet.append(contentsOf: repeatElement(0, count: length))
        let ok: Bool = tx.packet.withUnsafeMutableBytes { bytes in
            (try? memory.dmaRead(address, into: UnsafeMutableRawBufferPointer(rebasing: bytes[old...]))) != nil
        }
        if !ok { tx.dropping = true }
    }

    private func sendPacket() {
        if tx.segmentation {
            segment()
            return
        }
        guard tx.packet.count <= E1000.maxTransmitFrame else { return }
        var frame = tx.packet
        if let legacy = tx.legacyChecksum {
            E1000.insertChecksum(&frame, start: legacy.start, end: 0, at: legacy.offset, initial: 0)
        } else {
            if tx.insertIPChecksum {
                E1000.insertChecksum(&frame, start: tx.ipcss, end: tx.ipcse, at: tx.ipcso, initial: 0)
            }
            if tx.insertL4Checksum {
                E1000.insertChecksum(&frame, start: tx.tucss, end: tx.tucse, at: tx.tucso, initial: 0)
            }
        }
        deliver(frame)
    }

    /// TSO: the header (HDRLEN bytes) repeated before each MSS-sized slice of the payload, with
    /// the IP length and id, the TCP sequence number and flags (FIN and PSH only on the last),
    /// and both checksums fixed per segment. The guest leaves the pseudo-header sum without
    /// the length in the TCP checksum field; the length of each segment is added here.
    private func segment() {
        let header = tx.headerLength, mss = tx.mss, packet = tx.packet
        let ipMinimum = tx.isIPv4 ? 20 : 40
        let l4Minimum = tx.isTCP ? 20 : 8
        guard mss > 0, header <= packet.count, header >= tx.ipcss + ipMinimum,
              header >= tx.tucss + l4Minimum, tx.tucss >= tx.ipcss + ipMinimum else { return }
        let payload = packet.count - header
        let sequence = E1000.load32(packet, tx.tucss + 4)
        let ipID = E1000.load16(packet, tx.ipcss + 4)
        var offset = 0, index = 0
        repeat {
            let chunk = min(mss, payload - offset)
            let last = offset + chunk >= payload
            var frame = Array(packet[0..<header])
            frame.append(contentsOf: packet[(header + offset)..<(header + offset + chunk)])
            if tx.isIPv4 {
                E1000.store16(&frame, tx.ipcss + 2, UInt16(frame.count - tx.ipcss))
                E1000.store16(&frame, tx.ipcss + 4, ipID &+ UInt16(truncatingIfNeeded: index))
            } else {
                E1000.store16(&frame, tx.ipcss + 4, UInt16(frame.count - tx.ipcss - 40))
            }
            let l4Length = frame.count - tx.tucss
            if tx.isTCP {
                E1000.store32(&frame, tx.tucss + 4, sequence &+ UInt32(offset))
                if !last { frame[tx.tucss + 13] &= ~0x09 } // FIN, PSH
            } else {
                E1000.store16(&frame, tx.tucss + 4, UInt16(l4Length))
            }
            if tx.insertIPChecksum, tx.isIPv4 {
                E1000.insertChecksum(&frame, start: tx.ipcss, end: tx.ipcse, at: tx.ipcso, initial: 0)
            }
            if tx.insertL4Checksum {
                E1000.insertChecksum(&frame, start: tx.tucss, end: 0, at: tx.tucso, initial: UInt32(l4Length))
            }
            deliver(frame)
            offset += chunk
            index += 1
        } while offset < payload
    }

    /// Hands one frame to the backend, with the VLAN tag inserted when asked, and counts it.
    private func deliver(_ frame: [UInt8]) {
        var frame = frame
        if let tag = tx.vlanTag, frame.count >= 12 {
            let tpid = UInt16(truncatingIfNeeded: reg(E1000.vet))
            frame.insert(contentsOf: [UInt8(tpid >> 8), UInt8(tpid & 0xFF), UInt8(tag >> 8), UInt8(tag & 0xFF)], at: 12)
        }
        setReg(E1000.gptc, reg(E1000.gptc) &+ 1)
        setReg(E1000.tpt, reg(E1000.tpt) &+ 1)
        setReg(E1000.gotcl, reg(E1000.gotcl) &+ UInt32(frame.count))
        ioCounters?.addNetworkSent(frame.count)
        backend?.send(frame)
    }

    /// Sums [start, end] (end 0: to the end of the frame) plus `initial` and stores the
    /// checksum at `at`; offsets outside the frame skip the insertion.
    static func insertChecksum(_ frame: inout [UInt8], start: Int, end: Int, at: Int, initial: UInt32) {
        let stop = end == 0 ? frame.count : min(end + 1, frame.count)
        guard start < stop, at + 2 <= frame.count else { return }
        let sum = InternetChecksum.sum(frame[start..<stop], initial: initial)
        let value = InternetChecksum.finish(sum)
        store16(&frame, at, value == 0 ? 0xFFFF : value)
    }

    static func load16(_ b: [UInt8], _ at: Int) -> UInt16 { UInt16(b[at]) << 8 | UInt16(b[at + 1]) }
    static func load32(_ b: [UInt8], _ at: Int) -> UInt32 { UInt32(load16(b, at)) << 16 | UInt32(load16(b, at + 2)) }
    static func store16(_ b: inout [UInt8], _ at: Int, _ v: UInt16) {
        b[at] = UInt8(v >> 8)
        b[at + 1] = UInt8(v & 0xFF)
    }
    static func store32(_ b: inout [UInt8], _ at: Int, _ v: UInt32) {
        store16(&b, at, UInt16(v >> 16))
        store16(&b, at + 2, UInt16(v & 0xFFFF))
    }
}
