import CZlib

/// Receive: address filtering (RAL/RAH, MTA, promiscuous and broadcast bits), legacy receive
/// descriptors from RDH to RDT, frames split over buffers of the RCTL size, the FCS appended
/// unless RCTL.SECRC strips it, and the RXT0/RXDMT0/RXO causes.
extension E1000 {
    static let rctlEN: UInt32 = 1 << 1
    static let rctlUPE: UInt32 = 1 << 3
    static let rctlMPE: UInt32 = 1 << 4
    static let rctlLPE: UInt32 = 1 << 5
    static let rctlBAM: UInt32 = 1 << 15
    static let rctlBSEX: UInt32 = 1 << 25
    static let rctlSECRC: UInt32 = 1 << 26

    /// The size of each receive buffer, from RCTL.BSIZE and BSEX.
    var receiveBufferSize: Int {
        let rctl = reg(E1000.rctl)
        let code = Int((rctl >> 16) & 3)
        if rctl & E1000.rctlBSEX != 0, code != 0 { return [0, 16384, 8192, 4096][code] }
        return [2048, 1024, 512, 256][code]
    }

    /// Whether receive is on with a link (frames are wanted at all).
    public var isReceiving: Bool { reg(E1000.rctl) & E1000.rctlEN != 0 && linkUp && config.busMasterEnabled }

    /// Whether the ring has free descriptors for a frame of `length` bytes (as QEMU's
    /// e1000_can_receive): a backend holds frames back rather than losing them to RXO.
    public func hasReceiveRoom(for length: Int) -> Bool {
        let count = Int(reg(E1000.rdlen)) / 16
        let head = Int(reg(E1000.rdh)), tail = Int(reg(E1000.rdt))
        guard isReceiving, count > 0, head < count, tail < count else { return false }
        let needed = (max(length, 60) + 4 + receiveBufferSize - 1) / receiveBufferSize
        return needed <= (tail - head + count) % count
    }

    /// Delivers one frame from the network (no FCS) into the receive ring. Returns false when
    /// it was not stored: receive off, link down, filtered out, too long, the ring full (RXO,
    /// counted as missed) or a ring the guest put outside RAM.
    @discardableResult
    public func receive(_ frame: [UInt8]) -> Bool {
        let rctl = reg(E1000.rctl)
        guard rctl & E1000.rctlEN != 0, linkUp, config.busMasterEnabled,
              frame.count >= 14, accepts(frame) else { return false }
        var data = frame
        if data.count < 60 { data += [UInt8](repeating: 0, count: 60 - data.count) } // minimum frame
        guard data.count <= (rctl & E1000.rctlLPE != 0 ? 16384 : 1522) else { return false }
        if rctl & E1000.rctlSECRC == 0 {
            let fcs = data.withUnsafeBytes { UInt32(crc32(0, $0.bindMemory(to: UInt8.self).baseAddress, UInt32($0.count))) }
            data += [UInt8(fcs & 0xFF), UInt8((fcs >> 8) & 0xFF), UInt8((fcs >> 16) & 0xFF), UInt8(fcs >> 24)]
        }

        let count = Int(reg(E1000.rdlen)) / 16
        let base = UInt64(reg(E1000.rdbah)) << 32 | UInt64(reg(E1000.rdbal) & ~0xF)
        var head = Int(reg(E1000.rdh))
        let tail = Int(reg(E1000.rdt))
        guard count > 0, head < count, tail < count,
              memory.dmaCheck(base, length: count * 16, write: true) else { return false }
        let bufferSize = receiveBufferSize
        let needed = (data.count + bufferSize - 1) / bufferSize
        guard needed <= (tail - head + count) % count else {
            setReg(E1000.mpc, reg(E1000.mpc) &+ 1)
            raise(E1000.causeRXO)
            return false
        }
        var done = 0
        var stored = true
        while done < data.count {
            let descriptor = base + UInt64(head * 16)
            let chunk = min(bufferSize, data.count - done)
            let last = done + chunk == data.count
            // The ring was checked: only the buffer address can leave RAM. Such a buffer gets
            // an RX error (RXE) so the driver drops the frame and moves on.
            let buffer = (try? memory.dmaRead(descriptor, as: UInt64.self)) ?? 0
            let written: Bool = data.withUnsafeBytes { bytes in
                (try? memory.dmaWrite(buffer, from: UnsafeRawBufferPointer(rebasing: bytes[done..<(done + chunk)]))) != nil
            }
            let status: UInt64 = 0x01 | 0x04 | (last || !written ? 0x02 : 0) // DD, IXSM (no checksum), EOP
            let errors: UInt64 = written ? 0 : 0x80
            try? memory.dmaWrite(descriptor + 8, value: UInt64(written ? chunk : 0) | status << 32 | errors << 40)
            head = (head + 1) % count
            done += chunk
            if !written { stored = false; break }
        }
        setReg(E1000.rdh, UInt32(head))
        var causes = E1000.causeRXT0
        let free = (tail - head + count) % count
        if free <= count >> (1 + Int((rctl >> 8) & 3)) { causes |= E1000.causeRXDMT0 }
        if stored {
            setReg(E1000.gprc, reg(E1000.gprc) &+ 1)
            setReg(E1000.tpr, reg(E1000.tpr) &+ 1)
            setReg(E1000.gorcl, reg(E1000.gorcl) &+ UInt32(data.count))
            ioCounters?.addNetworkReceived(frame.count)
        }
        raise(causes)
        return stored
    }

    /// The destination filter: broadcast with BAM, multicast through MPE or the MTA hash,
    /// unicast through UPE or one of the 16 receive address registers marked valid.
    private func accepts(_ frame: [UInt8]) -> Bool {
        let rctl = reg(E1000.rctl)
        if frame[0..<6].allSatisfy({ $0 == 0xFF }) { return rctl & (E1000.rctlBAM | E1000.rctlMPE) != 0 }
        if frame[0] & 1 != 0 {
            if rctl & E1000.rctlMPE != 0 { return true }
            // RCTL.MO picks which 12 bits of the address index the 4096-bit table.
            let shift = [4, 3, 2, 0][Int((rctl >> 12) & 3)]
            let hash = (Int(frame[4]) >> shift | Int(frame[5]) << (8 - shift)) & 0xFFF
            return reg(E1000.mta + 4 * (hash >> 5)) & (1 << UInt32(hash & 31)) != 0
        }
        if rctl & E1000.rctlUPE != 0 { return true }
        let low = UInt32(frame[0]) | UInt32(frame[1]) << 8 | UInt32(frame[2]) << 16 | UInt32(frame[3]) << 24
        let high = UInt32(frame[4]) | UInt32(frame[5]) << 8
        for i in 0..<16 {
            let rah = reg(E1000.rah + 8 * i)
            if rah & 1 << 31 != 0, reg(E1000.ral + 8 * i) == low, rah & 0xFFFF == high { return true }
        }
        return false
    }
}
