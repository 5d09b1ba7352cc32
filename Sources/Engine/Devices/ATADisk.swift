/// An ATA hard disk on a BlockDevice: IDENTIFY DEVICE, READ/WRITE SECTORS (LBA28 and EXT
/// LBA48, CHS translated), READ/WRITE MULTIPLE, READ/WRITE DMA (EXT) through the bus master,
/// READ VERIFY, FLUSH CACHE (EXT), SET FEATURES, INITIALIZE DEVICE PARAMETERS.
/// A write that finds the host disk full stays busy (BSY, no interrupt) until `retry()` under
/// the `pause` policy, as the AHCI and virtio-blk controllers hold theirs.
public final class ATADisk: IDEDrive {
    public let disk: BlockDevice
    public let model: String
    /// Whether a write that finds the host disk full waits (the VM pauses) or aborts.
    public var onHostDiskFull = HostDiskFullPolicy.pause
    /// Told when a write waits for host space or an fsync fails; `retry()` resumes the write.
    public var onStop: ((DiskControllerStop) -> Void)?
    /// The write a full host disk held back, run again by `retry()`.
    private var heldWrite: (() -> Void)?
    private let sectors: UInt64
    // Default CHS translation (16 heads, 63 sectors), as QEMU reports for small disks.
    private let heads = 16, sectorsPerTrack = 63
    private var cylinders: Int { Int(min(16383, sectors / UInt64(heads * sectorsPerTrack))) }
    private var multipleCount = 16

    /// The transfer in progress: next LBA, sectors left, LBA48 or not, sectors per block.
    private var nextLBA: UInt64 = 0
    private var remaining = 0
    private var extended = false
    private var blockSectors = 1
    private var failure: String?

    public init(disk: BlockDevice, model: String = "VMTUI HARDDISK") {
        self.disk = disk
        self.model = model
        sectors = disk.size / 512
    }

    public var isPacketDevice: Bool { false }
    public var signature: (count: UInt8, lbaLow: UInt8, lbaMid: UInt8, lbaHigh: UInt8) { (1, 1, 0, 0) }
    /// The last storage error, for the machine's report.
    public var lastError: String? { failure }

    public func execute(_ command: UInt8, on channel: IDEChannel) {
        switch command {
        case 0xEC: channel.startPIORead(identify())
        case 0x20, 0x21, 0x24, 0xC4, 0x29:
            startTransfer(channel, extended: command == 0x24 || command == 0x29,
                          block: command == 0xC4 || command == 0x29 ? multipleCount : 1, write: false)
        case 0x30, 0x31, 0x34, 0xC5, 0x39:
            startTransfer(channel, extended: command == 0x34 || command == 0x39,
                          block: command == 0xC5 || command == 0x39 ? multipleCount : 1, write: true)
        case 0xC8, 0xC9, 0x25: dma(channel, extended: command == 0x25, write: false)
        case 0xCA, 0xCB, 0x35: dma(channel, extended: command == 0x35, write: true)
        case 0x40, 0x41, 0x42:
            let ext = command == 0x42
            let lba = resolveLBA(channel, extended: ext)
            let count = channel.count(extended: ext)
            guard lba + UInt64(count) <= sectors else { return channel.abort(error: 0x10) }
            channel.setLBA(lba + UInt64(count) - 1, extended: ext)
            channel.complete()
        case 0xE7, 0xEA: flushCache(channel)
        case 0xC6:
            let n = Int(channel.sectorCount & 0xFF)
            guard n > 0, n <= 16, n & (n - 1) == 0 else { return channel.abort() }
            multipleCount = n
            channel.complete()
        case 0xEF, 0x91, 0x10...0x1F, 0x70...0x7F, 0xE0...0xE6, 0xF8, 0x27:
            if command == 0xF8 || command == 0x27 { // READ NATIVE MAX ADDRESS (EXT)
                channel.setLBA(sectors - 1, extended: command == 0x27)
            }
            channel.complete() // features, geometry, recalibrate, seek, power: accepted
        default:
            channel.abort() // includes IDENTIFY PACKET DEVICE (0xA1) and PACKET (0xA0)
        }
    }

    /// FLUSH CACHE (EXT). A failed fsync stops the VM and the guest sees the error; an image
    /// whose metadata write-back finds the host disk full waits like a write.
    private func flushCache(_ channel: IDEChannel) {
        do { try disk.flush(); channel.complete() } catch {
            if held(error, channel, again: { [unowned self] in flushCache(channel) }) { return }
            failure = "\(error)"
            channel.abort(error: 0x40)
        }
    }

    /// The LBA of the command, from CHS when the LBA bit (device bit 6) is clear.
    private func resolveLBA(_ channel: IDEChannel, extended: Bool) -> UInt64 {
        if extended || channel.device & 0x40 != 0 { return channel.lba(extended: extended) }
        let cyl = UInt64(channel.lbaMid & 0xFF) | UInt64(channel.lbaHigh & 0xFF) << 8
        let head = UInt64(channel.device & 0x0F)
        let sector = UInt64(channel.lbaLow & 0xFF)
        return (cyl * UInt64(heads) + head) * UInt64(sectorsPerTrack) + sector &- 1
    }

    private func startTransfer(_ channel: IDEChannel, extended ext: Bool, block: Int, write: Bool) {
        nextLBA = resolveLBA(channel, extended: ext)
        remaining = channel.count(extended: ext)
        extended = ext
        blockSectors = block
        guard nextLBA + UInt64(remaining) <= sectors else { return channel.abort(error: 0x10) }
        if write {
            channel.startPIOWrite(bytes: min(blockSectors, remaining) * 512, interrupt: false)
        } else {
            supplyNextBlock(channel)
        }
    }

    private func supplyNextBlock(_ channel: IDEChannel) {
        let n = min(blockSectors, remaining)
        var data = [UInt8](repeating: 0, count: n * 512)
        guard advance(channel, sectors: n, again: { [unowned self] in supplyNextBlock(channel) }, {
            try data.withUnsafeMutableBytes { try disk.read(at: nextLBA * 512, into: $0) }
        }) else { return }
        channel.ioCounters.addDiskRead(data.count)
        channel.startPIORead(data)
    }

    /// Runs one block's disk I/O at nextLBA and moves past it. On an error the task file points
    /// at the failing sector and the command aborts with UNC, as a drive reports a bad sector,
    /// unless a full host disk holds it (`again` runs it on `retry()`).
    private func advance(_ channel: IDEChannel, sectors n: Int, again: @escaping () -> Void, _ io: () throws -> Void) -> Bool {
        do {
            try io()
        } catch {
            if held(error, channel, again: again) { return false }
            failure = "\(error)"
            channel.setLBA(nextLBA, extended: extended)
            channel.abort(error: ATADisk.errorCode(error))
            return false
        }
        nextLBA += UInt64(n)
        remaining -= n
        channel.setLBA(nextLBA - 1, extended: extended)
        return true
    }

    public func pioReadFinished(on channel: IDEChannel) {
        if remaining > 0 { supplyNextBlock(channel) }
    }

    public func pioWriteFinished(on channel: IDEChannel) {
        let data = channel.buffer
        guard remaining > 0 else { return }
        guard advance(channel, sectors: data.count / 512, again: { [unowned self] in pioWriteFinished(on: channel) }, {
            try data.withUnsafeBytes { try disk.write(at: nextLBA * 512, from: $0) }
        }) else { return }
        channel.ioCounters.addDiskWritten(data.count)
        if remaining > 0 {
            channel.startPIOWrite(bytes: min(blockSectors, remaining) * 512, interrupt: true)
        } else {
            channel.complete()
        }
    }

    private func dma(_ channel: IDEChannel, extended ext: Bool, write: Bool) {
        let lba = resolveLBA(channel, extended: ext)
        let count = channel.count(extended: ext)
        guard lba + UInt64(count) <= sectors else { return channel.abort(error: 0x10) }
        channel.startDMA(toMemory: !write, bytes: count * 512) { [self] data in
            dmaTransfer(&data, channel, lba: lba, count: count, extended: ext, write: write)
        }
    }

    /// The disk side of a DMA command; false when it failed (aborted) or waits for host space
    /// (held: `retry()` writes the same data and finishes the transfer).
    private func dmaTransfer(_ data: inout [UInt8], _ channel: IDEChannel, lba: UInt64, count: Int,
                             extended: Bool, write: Bool) -> Bool {
        do {
            if write {
                try data.withUnsafeBytes { try disk.write(at: lba * 512, from: $0) }
                channel.ioCounters.addDiskWritten(data.count)
            } else {
                try data.withUnsafeMutableBytes { try disk.read(at: lba * 512, into: $0) }
                channel.ioCounters.addDiskRead(data.count)
            }
            channel.setLBA(lba + UInt64(count) - 1, extended: extended)
            return true
        } catch {
            let kept = data
            if write, held(error, channel, again: { [unowned self] in
                var again = kept
                if dmaTransfer(&again, channel, lba: lba, count: count, extended: extended, write: write) { channel.finishDMA() }
            }) { return false }
            failure = "\(error)"
            channel.abort(error: ATADisk.errorCode(error))
            return false
        }
    }

    /// A write the host disk had no room for aborts (ABRT, as QEMU's ide_rw_error); other
    /// storage errors are UNC, as a drive reports a bad sector.
    private static func errorCode(_ error: any Error) -> UInt8 {
        (error as? StorageError)?.kind == .hostDiskFull ? IDEChannel.abortedCommand : 0x40
    }

    /// Tells the owner about a storage stop. A full host disk under the `pause` policy holds
    /// the command busy with `again` kept for `retry()` (true); a failed fsync is reported and
    /// the caller fails the command, as it does any other error (false).
    private func held(_ error: any Error, _ channel: IDEChannel, again: @escaping () -> Void) -> Bool {
        guard let error = error as? StorageError, let stop = DiskControllerStop(error, onHostDiskFull: onHostDiskFull) else {
            return false
        }
        guard case .hostDiskFull = stop else {
            onStop?(stop)
            return false
        }
        channel.status = IDEChannel.busy
        heldWrite = again
        onStop?(stop)
        return true
    }

    /// Runs the write a full host disk held back (once the user freed space); a disk still
    /// full holds it again.
    public func retry() {
        guard let again = heldWrite else { return }
        heldWrite = nil
        again()
    }

    /// A machine reset drops a held write: the guest that issued it is gone.
    public func reset() { heldWrite = nil }

    /// The 256-word IDENTIFY DEVICE block, little-endian bytes.
    func identify() -> [UInt8] { Self.identifyBytes(identifyWords()) }

    /// The IDENTIFY DEVICE words of a parallel ATA disk (AHCI adds its SATA words to them).
    func identifyWords() -> [UInt16] {
        var w = [UInt16](repeating: 0, count: 256)
        w[0] = 0x0040 // fixed disk
        w[1] = UInt16(cylinders)
        w[3] = UInt16(heads)
        w[6] = UInt16(sectorsPerTrack)
        Self.putString(&w, 10, 20, "VMTUI0001")
        Self.putString(&w, 23, 8, "1.0")
        Self.putString(&w, 27, 40, model)
        w[47] = 0x8000 | UInt16(16) // READ/WRITE MULTIPLE up to 16 sectors
        w[49] = 0x0300 // LBA and DMA supported
        w[51] = 0x0200
        w[53] = 0x0007 // words 54-58, 64-70 and 88 valid
        w[54] = UInt16(cylinders); w[55] = UInt16(heads); w[56] = UInt16(sectorsPerTrack)
        let chs = UInt32(cylinders * heads * sectorsPerTrack)
        w[57] = UInt16(chs & 0xFFFF); w[58] = UInt16(chs >> 16)
        w[59] = 0x0100 | UInt16(multipleCount)
        let lba28 = UInt32(min(sectors, 0x0FFF_FFFF))
        w[60] = UInt16(lba28 & 0xFFFF); w[61] = UInt16(lba28 >> 16)
        w[63] = 0x0007 // multiword DMA 0-2
        w[64] = 0x0003 // PIO 3-4
        w[65] = 120; w[66] = 120; w[67] = 120; w[68] = 120
        w[80] = 0x00F0 // ATA/ATAPI-4 to -7
        w[82] = 0x4000
        w[83] = 0x7400 // LBA48, FLUSH CACHE EXT, FLUSH CACHE
        w[84] = 0x4000
        w[85] = 0x4000
        w[86] = 0x3400
        w[87] = 0x4000
        w[88] = 0x003F // UDMA 0-5 supported
        w[93] = 0x6001 // 80-wire cable detected (as QEMU)
        for i in 0..<4 { w[100 + i] = UInt16(truncatingIfNeeded: sectors >> UInt64(16 * i)) }
        return w
    }
}
