/// The ATA commands an AHCI disk runs: those SeaBIOS, GRUB and Linux's ahci driver send.
extension AHCIPort {
    enum ATAError {
        static let abort: UInt8 = 0x04
        static let idNotFound: UInt8 = 0x10
        static let uncorrectable: UInt8 = 0x40
    }

    func execute(_ request: AHCICommandRequest) -> Outcome {
        guard request.isRegisterH2D, let device else { return .failed(error: ATAError.abort) }
        switch device {
        case .disk(let disk): return execute(request, on: disk)
        case .cdrom(let drive): return execute(request, on: drive)
        }
    }

    private func execute(_ request: AHCICommandRequest, on disk: BlockDevice) -> Outcome {
        let c = request.command
        switch c {
        case 0xEC: // IDENTIFY DEVICE
            return send(identify(disk), request)
        case 0xC8, 0x25, 0x20, 0x21, 0x24, 0xC4, 0x29: // READ DMA (EXT), READ SECTORS/MULTIPLE (EXT)
            let ext = [0x25, 0x24, 0x29].contains(c)
            return transfer(request, disk, lba: lba(request, ext), sectors: sectorCount(request, ext), write: false, pio: c != 0xC8 && c != 0x25)
        case 0xCA, 0x35, 0x30, 0x31, 0x34, 0xC5, 0x39: // WRITE DMA (EXT), WRITE SECTORS/MULTIPLE (EXT)
            let ext = [0x35, 0x34, 0x39].contains(c)
            return transfer(request, disk, lba: lba(request, ext), sectors: sectorCount(request, ext), write: true, pio: false)
        case 0x60, 0x61: // READ/WRITE FPDMA QUEUED
            guard active & (1 << UInt32(request.tag)) != 0 else { return .failed(error: ATAError.abort) }
            let sectors = request.features == 0 ? 65536 : Int(request.features)
            let outcome = transfer(request, disk, lba: request.lba48, sectors: sectors, write: c == 0x61, pio: false)
            if case .done = outcome { return .queued(tag: request.tag) }
            return outcome
        case 0xE7, 0xEA: // FLUSH CACHE (EXT)
            do throws(StorageError) {
                try disk.flush()
            } catch {
                return storageFailure(error)
            }
            return .done(transferred: 0, pioIn: false, lba: 0)
        case 0x06: // DATA SET MANAGEMENT: TRIM
            return trim(request, disk)
        case 0x40, 0x42: // READ VERIFY SECTORS (EXT)
            let ext = c == 0x42
            let (first, count) = (lba(request, ext), sectorCount(request, ext))
            guard inRange(first, count) else { return .failed(error: ATAError.idNotFound) }
            return .done(transferred: 0, pioIn: false, lba: first + UInt64(count) - 1)
        case 0xF8, 0x27: // READ NATIVE MAX ADDRESS (EXT): no host protected area
            return .done(transferred: 0, pioIn: false, lba: sectors - 1)
        case 0x2F: // READ LOG EXT: only the NCQ command error log
            return readLog(request)
        case 0xEF, 0xE0...0xE6, 0x91, 0x10...0x1F, 0x70...0x7F, 0xC6:
            // SET FEATURES, power management, geometry, recalibrate, seek, SET MULTIPLE: accepted
            return .done(transferred: 0, pioIn: false, lba: 0)
        default: // NOP, IDENTIFY PACKET DEVICE, SET MAX, SMART, PACKET...
            return .failed(error: ATAError.abort)
        }
    }

    private func lba(_ request: AHCICommandRequest, _ ext: Bool) -> UInt64 { ext ? request.lba48 : request.lba28 }

    /// Sector count: 0 means 256 (LBA28) or 65536 (LBA48).
    private func sectorCount(_ request: AHCICommandRequest, _ ext: Bool) -> Int {
        let n = ext ? Int(request.count) : Int(request.count & 0xFF)
        return n == 0 ? (ext ? 65536 : 256) : n
    }

    private func inRange(_ lba: UInt64, _ count: Int) -> Bool {
        let (end, overflow) = lba.addingReportingOverflow(UInt64(count))
        return !overflow && end <= sectors
    }

    /// A storage error: a full host disk (unless its policy is `report`) or a failed fsync
    /// stops the port (its owner decides); anything else is an error the guest sees: a full
    /// host disk as ABRT, as QEMU's ide_rw_error reports a failed write, others as UNC for the
    /// sector, as a drive reports a bad one.
    private func storageFailure(_ error: StorageError) -> Outcome {
        if let stop = DiskControllerStop(error, onHostDiskFull: onHostDiskFull) { return .stopped(stop) }
        return .failed(error: error.kind == .hostDiskFull ? ATAError.abort : ATAError.uncorrectable)
    }

    /// Moves `sectors` sectors at `lba` between the disk and the PRDT's regions.
    private func transfer(_ request: AHCICommandRequest, _ disk: BlockDevice, lba: UInt64, sectors: Int,
                          write: Bool, pio: Bool) -> Outcome {
        guard inRange(lba, sectors) else { return .failed(error: ATAError.idNotFound) }
        let bytes = sectors * 512
        guard request.capacity >= bytes else { return .failed(error: ATAError.abort) } // PRDT too short
        var buffer = [UInt8](repeating: 0, count: bytes)
        return buffer.withUnsafeMutableBytes { data in
            let memory = controller.memory
            do throws(DMAError) {
                if write { try request.gather(memory, into: data) }
            } catch {
                return .hostBusError
            }
            do throws(StorageError) {
                if write {
                    try disk.write(at: lba * 512, from: UnsafeRawBufferPointer(data))
                } else {
                    try disk.read(at: lba * 512, into: data)
                }
            } catch {
                return storageFailure(error)
            }
            do throws(DMAError) {
                if !write { try request.scatter(memory, from: UnsafeRawBufferPointer(data)) }
            } catch {
                return .hostBusError
            }
            if write { controller.ioCounters?.addDiskWritten(bytes) } else { controller.ioCounters?.addDiskRead(bytes) }
            return .done(transferred: bytes, pioIn: pio && !write, lba: lba + UInt64(sectors) - 1)
        }
    }

    /// A PIO data-in reply (IDENTIFY, a log page) into the PRDT.
    func send(_ reply: [UInt8], _ request: AHCICommandRequest) -> Outcome {
        guard request.capacity >= reply.count else { return .failed(error: ATAError.abort) }
        do throws(DMAError) {
            try reply.withUnsafeBytes { bytes in
                Result { () throws(DMAError) in try request.scatter(controller.memory, from: bytes) }
            }.get()
        } catch {
            return .hostBusError
        }
        return .done(transferred: reply.count, pioIn: true, lba: 0)
    }

    /// DATA SET MANAGEMENT with the TRIM bit: `count` 512-byte blocks of 8-byte range entries
    /// (LBA in bits 47:0, sector count in 63:48; a zero count is padding).
    private func trim(_ request: AHCICommandRequest, _ disk: BlockDevice) -> Outcome {
        guard request.features & 1 != 0, disk.supportsDiscard, request.count > 0 else { return .failed(error: ATAError.abort) }
        let bytes = Int(request.count) * 512
        guard request.capacity >= bytes else { return .failed(error: ATAError.abort) }
        var list = [UInt8](repeating: 0, count: bytes)
        do throws(DMAError) {
            try list.withUnsafeMutableBytes { data in
                Result { () throws(DMAError) in try request.gather(controller.memory, into: data) }
            }.get()
        } catch {
            return .hostBusError
        }
        let entries = StorageBytes(list)
        var ranges: [(UInt64, Int)] = []
        for i in 0..<(bytes / 8) {
            let entry = entries.le64(i * 8)
            let count = Int(entry >> 48)
            guard count > 0 else { continue }
            let first = entry & 0xFFFF_FFFF_FFFF
            guard inRange(first, count) else { return .failed(error: ATAError.idNotFound) }
            ranges.append((first, count))
        }
        for (first, count) in ranges {
            do throws(StorageError) {
                try disk.discard(at: first * 512, count: UInt64(count) * 512)
            } catch {
                return storageFailure(error)
            }
        }
        return .done(transferred: bytes, pioIn: false, lba: 0)
    }

    /// READ LOG EXT page 10h: the tag and status of the queued command that failed; reading
    /// it ends the error condition and drops the other queued commands, as a drive does.
    private func readLog(_ request: AHCICommandRequest) -> Outcome {
        guard request.fis[4] == 0x10, request.count == 1 else { return .failed(error: ATAError.abort) }
        var page = [UInt8](repeating: 0, count: 512)
        if let failed = lastQueuedError {
            page[0] = UInt8(failed.tag)
            page[2] = failed.status
            page[3] = failed.error
        } else {
            page[0] = 0x80 // NQ: no queued command failed
        }
        let outcome = send(page, request)
        if case .done = outcome {
            lastQueuedError = nil
            active = 0
        }
        return outcome
    }

    /// IDENTIFY DEVICE of a SATA disk: the parallel ATA words plus NCQ (queue depth 32),
    /// the SATA generation and, when the image can discard, DATA SET MANAGEMENT TRIM.
    private func identify(_ disk: BlockDevice) -> [UInt8] {
        var w = ATADisk(disk: disk).identifyWords()
        w[75] = UInt16(AHCIPort.slotCount - 1)
        w[76] = 0x0100 | 0x0002 // NCQ, SATA Gen1
        w[80] = 0x01F0 // ATA/ATAPI-4 to ATA8-ACS
        if disk.supportsDiscard {
            w[169] = 0x0001 // TRIM
            w[105] = 1 // one 512-byte block of range entries per command
        }
        return ATADisk.identifyBytes(w)
    }
}
