#if canImport(Glibc)
import Glibc
#endif

/// The disk controllers the config's interfaces ask for, as in QEMU's `pc` machine: IDE disks on
/// the PIIX3's primary channel (two), SATA disks on an ICH9 AHCI at 00:04.0 (six ports), and one
/// virtio-blk function per virtio disk from 00:05.0 on (four slots). Interrupts are INTx through
/// the PIRQ routing until an MSI sink exists.
///
/// A write that finds the host disk full pauses the machine (`hostDiskFull`) without blocking
/// inside the port or MMIO handler that ran it: the controller keeps the request, the vCPU is
/// kicked out of its slice, and `retryStorage()` runs the request again; a disk whose policy is
/// `report` fails the write in the guest instead. A failed fsync stops the machine.
extension Machine {
    static let ahciSlot = 4
    static let virtioSlots = 5..<(5 + VMConfig.DiskInterface.virtio.diskLimit)

    /// Builds the controllers and puts each configured disk on its interface's controller.
    func attachDisks(baseDirectory: String?) throws {
        var ideCount = 0
        var sata: [(device: AHCIPort.Device, onHostDiskFull: HostDiskFullPolicy)] = []
        for spec in config.disks {
            let path = resolve(spec.path, baseDirectory)
            let limit = spec.interface.diskLimit
            let used = switch spec.interface {
            case .ide: ideCount
            case .sata: sata.count
            case .virtio: virtioDisks.count
            }
            guard used < limit else { throw MachineError.controllerFull(path: path, interface: spec.interface.rawValue, limit: limit) }
            let disk = try openWritable(path)
            // The format comes from the file's magic; a config that says otherwise is refused, so a
            // raw disk whose guest wrote a qcow2 header is never read as qcow2 (and vice versa).
            guard disk.format == spec.format else {
                throw MachineError.unsupportedDisk(path: path, reason: "config.json says \(spec.format.rawValue) but the file is a \(disk.format.rawValue) image; fix the disk's format in config.json")
            }
            switch spec.interface {
            case .ide:
                let drive = ATADisk(disk: disk)
                drive.onHostDiskFull = spec.onHostDiskFull
                drive.onStop = { [unowned self] in storageStopped($0) }
                ide.primary.attach(drive, slot: ideCount)
                ideCount += 1
            case .sata:
                sata.append((.disk(disk), spec.onHostDiskFull))
            case .virtio:
                let block = VirtioBlock(disk: disk, memory: memory, serial: "VMTUI-VIRTIO-\(virtioDisks.count)")
                block.ioCounters = ioCounters
                block.onHostDiskFull = spec.onHostDiskFull
                block.onStop = { [unowned self] in storageStopped($0) }
                hostBridge.attach(block.transport, device: Machine.virtioSlots.lowerBound + virtioDisks.count)
                virtioDisks.append(block)
            }
        }
        guard !sata.isEmpty else { return }
        let controller = AHCI(memory: memory)
        for (port, disk) in sata.enumerated() { controller.attach(disk.device, port: port, onHostDiskFull: disk.onHostDiskFull) }
        controller.ioCounters = ioCounters
        controller.onStop = { [unowned self] in storageStopped($0) }
        hostBridge.attach(controller, device: Machine.ahciSlot)
        ahci = controller
    }

    /// The OpenFirmware paths SeaBIOS matches its disks against (boot.c's bootprio_find_*: the
    /// device name is a wildcard, the slot, port and unit count), in config order.
    var diskBootPaths: [String] {
        var ide = 0, sata = 0, virtio = 0
        return config.disks.map { spec in
            switch spec.interface {
            case .ide:
                defer { ide += 1 }
                return "/pci@i0cf8/ide@1,1/drive@0/disk@\(ide)"
            case .sata:
                defer { sata += 1 }
                return "/pci@i0cf8/sata@\(Machine.ahciSlot)/drive@\(sata)/disk@0"
            case .virtio:
                defer { virtio += 1 }
                return "/pci@i0cf8/scsi@\(Machine.virtioSlots.lowerBound + virtio)/disk@0,0"
            }
        }
    }

    /// The IDE disks, which hold a write on a full host disk as the other controllers do.
    private var ideDisks: [ATADisk] { ide.primary.drives.compactMap { $0 as? ATADisk } }

    func resetStorage() {
        for disk in ideDisks { disk.reset() }
        ahci?.reset()
        for block in virtioDisks { block.transport.reset() }
    }

    /// Called by a controller inside its MMIO handler: only records the stop and ends the slice.
    private func storageStopped(_ stop: DiskControllerStop) {
        switch stop {
        case .hostDiskFull(let path):
            hostDiskFull = path
            (clock as? HostClock)?.pause() // the guest's command timeouts do not run while paused
        case .flushFailed:
            if stopReason == nil { stopReason = .hostError(stop.message) }
        }
        endSlice()
    }

    /// Runs the requests a full host disk held back (after the user freed space). If the disk
    /// is still full, the machine pauses again at once.
    public func retryStorage() {
        guard hostDiskFull != nil else { return }
        hostDiskFull = nil
        (clock as? HostClock)?.resume()
        for disk in ideDisks { disk.retry() }
        ahci?.retry()
        for block in virtioDisks { block.retry() }
    }
}
