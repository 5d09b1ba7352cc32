/// A virtio block device (virtio 1.x, PCI 1AF4:1042) on a disk image: one request queue of
/// READ, WRITE, FLUSH, GET_ID, DISCARD and WRITE_ZEROES requests. A request runs when the
/// driver notifies the queue; bad requests (sectors past the end, odd lengths) complete with
/// IOERR, a broken queue sets DEVICE_NEEDS_RESET. A write that finds the host disk full stays
/// in the available ring, unfinished, until `retry()` (or fails with IOERR if the disk's
/// policy is `report`).
public final class VirtioBlock: VirtioDevice {
    enum Feature {
        static let segmentMax: UInt64 = 1 << 2
        static let readOnly: UInt64 = 1 << 5
        static let blockSize: UInt64 = 1 << 6
        static let flush: UInt64 = 1 << 9
        static let discard: UInt64 = 1 << 13
        static let writeZeroes: UInt64 = 1 << 14
    }

    enum RequestType {
        static let read: UInt32 = 0, write: UInt32 = 1, flush: UInt32 = 4, getID: UInt32 = 8
        static let discard: UInt32 = 11, writeZeroes: UInt32 = 13
    }

    enum RequestStatus {
        static let ok: UInt8 = 0, ioError: UInt8 = 1, unsupported: UInt8 = 2
    }

    static let queueSize: UInt16 = 256
    /// Segments per request we promise to take (SEG_MAX); a request's data is bounded by it.
    static let maxSegments = 126
    /// A request's buffers, readable and writable each, are refused beyond this (host memory).
    static let maxRequestBytes = 64 << 20
    static let maxDiscardSectors: UInt32 = 1 << 22
    static let maxDiscardSegments: UInt32 = 64

    public let disk: BlockDevice
    public let serial: String
    /// The PCI function and MMIO device the machine attaches.
    public private(set) var transport: VirtioPCITransport!
    /// Told when a request stops on a full host disk or a failed fsync; `retry()` resumes.
    public var onStop: ((DiskControllerStop) -> Void)?
    /// Where the bytes moved are counted (the machine's), if anywhere.
    public var ioCounters: IOCounters?
    /// Whether a write that finds the host disk full waits (the VM pauses) or fails with IOERR.
    public var onHostDiskFull = HostDiskFullPolicy.pause
    /// Set while a request waits for host space: the queue is not touched until `retry()`.
    private(set) var waitingForSpace = false
    /// The last storage error the guest saw as IOERR, for the machine's report.
    public private(set) var lastError: String?

    public init(disk: BlockDevice, memory: MemoryMap, serial: String = "VMTUI-VIRTIO-0") {
        self.disk = disk
        self.serial = serial
        transport = VirtioPCITransport(device: self, memory: memory, classCode: 0x01_00_00)
    }

    var deviceType: UInt16 { 2 }
    var queueSizes: [UInt16] { [VirtioBlock.queueSize] }

    var features: UInt64 {
        var f = Feature.segmentMax | Feature.blockSize | Feature.flush | Feature.writeZeroes
        if disk.supportsDiscard { f |= Feature.discard }
        if disk.isReadOnly { f |= Feature.readOnly }
        return f
    }

    /// struct virtio_blk_config (5.2.4).
    func configBytes() -> [UInt8] {
        var b = StorageBytes(count: 0x3C)
        b.setLE64(0x00, disk.size / 512)
        b.setLE32(0x0C, UInt32(VirtioBlock.maxSegments))
        b.setLE32(0x14, 512)
        b.setLE32(0x24, VirtioBlock.maxDiscardSectors)
        b.setLE32(0x28, VirtioBlock.maxDiscardSegments)
        b.setLE32(0x2C, 1)
        b.setLE32(0x30, VirtioBlock.maxDiscardSectors)
        b.setLE32(0x34, VirtioBlock.maxDiscardSegments)
        return b.bytes
    }

    func reset() { waitingForSpace = false }

    /// Runs the request that waited for host space, then whatever queued up behind it.
    public func retry() {
        guard waitingForSpace else { return }
        waitingForSpace = false
        process(queue: 0, on: transport)
    }

    func process(queue index: Int, on transport: VirtioPCITransport) {
        let queue = transport.queues[index]
        let memory = transport.memory
        var completed = false
        defer { if completed { transport.notifyUsed(queue) } }
        while !waitingForSpace {
            do throws(VirtioQueueError) {
                guard let chain = try queue.peek(memory) else { return }
                switch run(chain, memory) {
                case .finished(let written):
                    queue.take()
                    try queue.complete(memory, head: chain.head, written: written)
                    completed = true
                case .wait(let stop):
                    if case .hostDiskFull = stop { waitingForSpace = true }
                    onStop?(stop)
                    if waitingForSpace { return }
                    // A failed fsync is not retried: the request fails and the owner stops the VM.
                    try finish(chain, status: RequestStatus.ioError, written: 1, queue, memory)
                    completed = true
                }
            } catch {
                transport.needsReset(error)
                return
            }
        }
    }

    private func finish(_ chain: VirtioQueue.Chain, status: UInt8, written: Int, _ queue: VirtioQueue,
                        _ memory: MemoryMap) throws(VirtioQueueError) {
        try writeStatus(chain, status, memory)
        queue.take()
        try queue.complete(memory, head: chain.head, written: written)
    }

    private enum Result {
        /// Status written; `written` bytes of the writable buffers used (status byte included).
        case finished(written: Int)
        /// Nothing written: the owner decides (host disk full waits for `retry()`).
        case wait(DiskControllerStop)
    }

    /// Runs one request. The status byte is the last byte of the last writable buffer.
    private func run(_ chain: VirtioQueue.Chain, _ memory: MemoryMap) -> Result {
        let readable = chain.readable, writable = chain.writable
        let writableBytes = writable.reduce(0) { $0 + $1.length }
        let readableBytes = readable.reduce(0) { $0 + $1.length }
        guard writableBytes >= 1, readableBytes >= 16, writableBytes <= VirtioBlock.maxRequestBytes,
              readableBytes <= VirtioBlock.maxRequestBytes + 16,
              readable.count + writable.count <= VirtioBlock.maxSegments + 2 else {
            return status(chain, RequestStatus.ioError, memory)
        }
        let input: [UInt8]
        do throws(DMAError) {
            input = try gather(readable, memory)
        } catch {
            return status(chain, RequestStatus.ioError, memory)
        }
        let header = StorageBytes(Array(input[0..<16]))
        let type = header.le32(0), sector = header.le64(8)
        let payload = Array(input[16...])
        let dataBytes = writableBytes - 1
        switch type {
        case RequestType.read:
            guard dataBytes % 512 == 0, inRange(sector, bytes: UInt64(dataBytes)) else { return status(chain, RequestStatus.ioError, memory) }
            var data = [UInt8](repeating: 0, count: dataBytes)
            do throws(StorageError) {
                try data.withUnsafeMutableBytes { buffer in
                    Swift.Result { () throws(StorageError) in try disk.read(at: sector * 512, into: buffer) }
                }.get()
            } catch {
                return storageFailure(error, chain, memory)
            }
            do throws(DMAError) {
                try scatter(data, into: writable, memory)
            } catch {
                return status(chain, RequestStatus.ioError, memory)
            }
            ioCounters?.addDiskRead(dataBytes)
            return status(chain, RequestStatus.ok, memory, written: writableBytes)
        case RequestType.write:
            guard !disk.isReadOnly, payload.count % 512 == 0, inRange(sector, bytes: UInt64(payload.count)) else {
                return status(chain, RequestStatus.ioError, memory)
            }
            do throws(StorageError) {
                try payload.withUnsafeBytes { buffer in
                    Swift.Result { () throws(StorageError) in try disk.write(at: sector * 512, from: buffer) }
                }.get()
            } catch {
                return storageFailure(error, chain, memory)
            }
            ioCounters?.addDiskWritten(payload.count)
            return status(chain, RequestStatus.ok, memory)
        case RequestType.flush:
            do throws(StorageError) {
                try disk.flush()
            } catch {
                return storageFailure(error, chain, memory)
            }
            return status(chain, RequestStatus.ok, memory)
        case RequestType.getID:
            let id = Array(serial.utf8.prefix(20))
            let reply = Array((id + [UInt8](repeating: 0, count: 20 - id.count)).prefix(dataBytes))
            do throws(DMAError) {
                try scatter(reply, into: writable, memory)
            } catch {
                return status(chain, RequestStatus.ioError, memory)
            }
            return status(chain, RequestStatus.ok, memory, written: reply.count + 1)
        case RequestType.discard, RequestType.writeZeroes:
            return ranges(chain, type: type, payload, memory)
        default:
            return status(chain, RequestStatus.unsupported, memory)
        }
    }

    /// DISCARD and WRITE_ZEROES: 16-byte segments of (sector, sector count, flags).
    private func ranges(_ chain: VirtioQueue.Chain, type: UInt32, _ payload: [UInt8], _ memory: MemoryMap) -> Result {
        let segments = payload.count / 16
        guard !disk.isReadOnly, payload.count % 16 == 0, segments > 0, segments <= Int(VirtioBlock.maxDiscardSegments),
              type != RequestType.discard || disk.supportsDiscard else {
            return status(chain, RequestStatus.ioError, memory)
        }
        let list = StorageBytes(payload)
        var work: [(UInt64, UInt32)] = []
        for i in 0..<segments {
            let sector = list.le64(16 * i), count = list.le32(16 * i + 8)
            guard count <= VirtioBlock.maxDiscardSectors, inRange(sector, bytes: UInt64(count) * 512) else {
                return status(chain, RequestStatus.ioError, memory)
            }
            work.append((sector, count))
        }
        do throws(StorageError) {
            for (sector, count) in work {
                if type == RequestType.discard {
                    try disk.discard(at: sector * 512, count: UInt64(count) * 512)
                } else {
                    try writeZeroes(at: sector * 512, bytes: Int(count) * 512)
                }
            }
        } catch {
            return storageFailure(error, chain, memory)
        }
        return status(chain, RequestStatus.ok, memory)
    }

    /// Zeros in 1 MiB pieces (a request may cover up to 2 GiB).
    private func writeZeroes(at offset: UInt64, bytes: Int) throws(StorageError) {
        let zeros = [UInt8](repeating: 0, count: min(bytes, 1 << 20))
        var done = 0
        while done < bytes {
            let n = min(zeros.count, bytes - done)
            try zeros.withUnsafeBytes { buffer in
                Swift.Result { () throws(StorageError) in
                    try disk.write(at: offset + UInt64(done), from: UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
                }
            }.get()
            done += n
        }
    }

    private func inRange(_ sector: UInt64, bytes: UInt64) -> Bool {
        guard sector <= UInt64.max / 512 else { return false }
        let (end, overflow) = (sector * 512).addingReportingOverflow(bytes)
        return !overflow && end <= disk.size
    }

    private func storageFailure(_ error: StorageError, _ chain: VirtioQueue.Chain, _ memory: MemoryMap) -> Result {
        if let stop = DiskControllerStop(error, onHostDiskFull: onHostDiskFull) { return .wait(stop) }
        lastError = error.description
        return status(chain, RequestStatus.ioError, memory)
    }

    /// Writes the status byte and reports the request finished.
    private func status(_ chain: VirtioQueue.Chain, _ value: UInt8, _ memory: MemoryMap, written: Int = 1) -> Result {
        // The chain's buffers were checked to be RAM when it was walked.
        try? writeStatus(chain, value, memory)
        return .finished(written: written)
    }

    private func writeStatus(_ chain: VirtioQueue.Chain, _ value: UInt8, _ memory: MemoryMap) throws(VirtioQueueError) {
        guard let last = chain.writable.last(where: { $0.length > 0 }) else { return }
        do throws(DMAError) {
            try memory.dmaWrite(last.address + UInt64(last.length - 1), value: value)
        } catch {
            throw .outsideRAM(error)
        }
    }

    private func gather(_ buffers: [VirtioQueue.Buffer], _ memory: MemoryMap) throws(DMAError) -> [UInt8] {
        var bytes: [UInt8] = []
        for buffer in buffers { bytes += try memory.dmaReadBytes(buffer.address, count: buffer.length) }
        return bytes
    }

    /// Copies `data` into the writable buffers in order (the status byte stays for last).
    private func scatter(_ data: [UInt8], into buffers: [VirtioQueue.Buffer], _ memory: MemoryMap) throws(DMAError) {
        var done = 0
        for buffer in buffers where done < data.count {
            let n = min(buffer.length, data.count - done)
            try memory.dmaWriteBytes(buffer.address, Array(data[done..<(done + n)]))
            done += n
        }
    }
}
