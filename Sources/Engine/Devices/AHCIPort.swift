/// One AHCI port (registers at ABAR 0x100 + 0x80 * index) with the drive behind it: the
/// command list and FIS receive area the guest points it at, the start/stop handshake
/// (ST/CR, FRE/FR), COMRESET through PxSCTL.DET, and the command engine that runs each issued
/// slot: command header, command table, PRDT scatter-gather through the DMA API, then a D2H
/// register, PIO setup or Set Device Bits FIS and the interrupt status.
public final class AHCIPort {
    public static let slotCount = 32

    /// What is plugged into the port.
    public enum Device {
        case disk(BlockDevice)
        /// An ATAPI CD/DVD drive: its packet commands run on the drive's shared command set.
        case cdrom(ATAPICDROM)

        /// PxSIG after a reset: sector count, LBA low, mid, high.
        var signature: UInt32 {
            switch self {
            case .disk: 0x0000_0101
            case .cdrom: 0xEB14_0101
            }
        }
    }

    enum Status {
        static let ready: UInt8 = 0x40, seekDone: UInt8 = 0x10, error: UInt8 = 0x01
        static let busy: UInt8 = 0x80, drq: UInt8 = 0x08
        static let good = ready | seekDone
    }

    /// PxIS bits.
    enum Interrupt {
        static let d2hRegister: UInt32 = 1 << 0
        static let pioSetup: UInt32 = 1 << 1
        static let setDeviceBits: UInt32 = 1 << 3
        static let hostBusFatal: UInt32 = 1 << 29
        static let taskFileError: UInt32 = 1 << 30
        static let writable: UInt32 = 0xFDC0_00FF & ~0x0000_0040 // RWC bits (not PCS/PRCS, which follow SERR)
    }

    /// PxCMD bits.
    enum Command {
        static let start: UInt32 = 1 << 0
        static let spinUp: UInt32 = 1 << 1
        static let powerOn: UInt32 = 1 << 2
        static let fisReceiveEnable: UInt32 = 1 << 4
        static let fisReceiveRunning: UInt32 = 1 << 14
        static let listRunning: UInt32 = 1 << 15
        static let atapi: UInt32 = 1 << 24
        /// What software may set: ST, SUD, POD, FRE, ATAPI, and the link power bits it ignores.
        static let writable: UInt32 = start | spinUp | powerOn | fisReceiveEnable | atapi | 0xF000_0000
    }

    public let index: Int
    public internal(set) var device: Device?
    /// Whether a write that finds the host disk full pauses the VM or fails the command.
    public internal(set) var onHostDiskFull = HostDiskFullPolicy.pause
    unowned var controller: AHCI!

    var commandListBase: UInt64 = 0
    var fisBase: UInt64 = 0
    var interruptStatus: UInt32 = 0
    var interruptEnable: UInt32 = 0
    var command: UInt32 = 0
    var taskFile: UInt32 = 0x7F
    var signature: UInt32 = 0xFFFF_FFFF
    var statusControl: UInt32 = 0
    var sataError: UInt32 = 0
    var active: UInt32 = 0
    var issued: UInt32 = 0
    /// A command failed: no further slots run until software clears PxCMD.ST.
    var halted = false
    /// A write hit a full host disk: the slot stays issued until `retry()`.
    var waitingForSpace = false
    /// The queued command that failed, for READ LOG EXT page 10h (NCQ error log).
    var lastQueuedError: (tag: Int, status: UInt8, error: UInt8)?

    init(index: Int) { self.index = index }

    var interruptPending: Bool { interruptStatus & interruptEnable != 0 }
    var sectors: UInt64 {
        guard case .disk(let disk) = device else { return 0 }
        return disk.size / 512
    }

    /// Port reset (HBA reset): engine stopped, interrupts off, the device detected again.
    func reset() {
        commandListBase = 0
        fisBase = 0
        interruptStatus = 0
        interruptEnable = 0
        command = Command.spinUp | Command.powerOn
        statusControl = 0
        sataError = 0
        resetLink()
    }

    /// COMRESET: commands dropped, the device found again with its signature in PxSIG and a
    /// D2H FIS (when FIS receive is on), as after power-on.
    private func resetLink() {
        active = 0
        issued = 0
        halted = false
        waitingForSpace = false
        lastQueuedError = nil
        guard let device else {
            taskFile = 0x7F
            signature = 0xFFFF_FFFF
            return
        }
        signature = device.signature
        taskFile = 0x0100 | UInt32(Status.good) // error register 1: diagnostics passed
        // The signature travels in the FIS's count and LBA bytes.
        postRegisterFIS(status: Status.good, error: 1, interrupt: false, lba: UInt64(signature >> 8), count: UInt16(signature & 0xFF))
    }

    // MARK: Registers

    /// PxSSTS: device present with communication established, Gen1, interface active.
    private var linkStatus: UInt32 {
        guard device != nil, statusControl & 0xF != 1 else { return 0 }
        return 0x113
    }

    func read(_ offset: Int) -> UInt32 {
        switch offset {
        case 0x00: return UInt32(truncatingIfNeeded: commandListBase)
        case 0x04: return UInt32(truncatingIfNeeded: commandListBase >> 32)
        case 0x08: return UInt32(truncatingIfNeeded: fisBase)
        case 0x0C: return UInt32(truncatingIfNeeded: fisBase >> 32)
        case 0x10: return interruptStatus
        case 0x14: return interruptEnable
        case 0x18: return command
        case 0x20: return taskFile
        case 0x24: return signature
        case 0x28: return linkStatus
        case 0x2C: return statusControl
        case 0x30: return sataError
        case 0x34: return active
        case 0x38: return issued
        default: return 0
        }
    }

    func write(_ offset: Int, value: UInt32, mask: UInt32) {
        func merged(_ old: UInt32) -> UInt32 { (old & ~mask) | (value & mask) }
        switch offset {
        case 0x00: commandListBase = commandListBase & ~0xFFFF_FFFF | UInt64(merged(UInt32(truncatingIfNeeded: commandListBase)) & ~0x3FF)
        case 0x04: commandListBase = commandListBase & 0xFFFF_FFFF | UInt64(merged(UInt32(commandListBase >> 32))) << 32
        case 0x08: fisBase = fisBase & ~0xFFFF_FFFF | UInt64(merged(UInt32(truncatingIfNeeded: fisBase)) & ~0xFF)
        case 0x0C: fisBase = fisBase & 0xFFFF_FFFF | UInt64(merged(UInt32(fisBase >> 32))) << 32
        case 0x10:
            interruptStatus &= ~(value & mask & Interrupt.writable)
            controller.updateInterrupt()
        case 0x14:
            interruptEnable = merged(interruptEnable) & 0xFDC0_00FF
            controller.updateInterrupt()
        case 0x18: writeCommand(merged(command))
        case 0x2C:
            let old = statusControl
            statusControl = merged(statusControl) & 0xFFF
            // DET 1 holds the link in reset (COMRESET); going back to 0 brings the device up.
            if old & 0xF == 1 && statusControl & 0xF != 1 { resetLink() }
            if statusControl & 0xF == 1 { active = 0; issued = 0 }
        case 0x30: sataError &= ~(value & mask)
        case 0x34:
            // SACT bits are set by software while the engine runs, and cleared only by the HBA.
            if command & Command.start != 0 { active |= value & mask }
        case 0x38:
            if command & Command.start != 0 {
                issued |= value & mask
                processCommands()
            }
        default: break
        }
    }

    /// PxCMD: ST starts and stops the command engine (CR follows at once: nothing is in
    /// flight), FRE the FIS receive engine (FR follows); stopping drops issued commands.
    private func writeCommand(_ value: UInt32) {
        let wasRunning = command & Command.start != 0
        command = (command & ~Command.writable) | (value & Command.writable)
        command &= ~(Command.listRunning | Command.fisReceiveRunning)
        if command & Command.start != 0 { command |= Command.listRunning }
        if command & Command.fisReceiveEnable != 0 { command |= Command.fisReceiveRunning }
        if wasRunning && command & Command.start == 0 {
            issued = 0
            active = 0
            halted = false
            waitingForSpace = false
        }
        if !wasRunning && command & Command.start != 0 { processCommands() }
    }

    // MARK: Interrupts and FISes

    func raise(_ bits: UInt32) {
        interruptStatus |= bits
        controller.updateInterrupt()
    }

    /// Writes a FIS into the receive area at `offset` (when FIS receive is running).
    private func postFIS(_ fis: [UInt8], at offset: UInt64) {
        guard command & Command.fisReceiveRunning != 0 else { return }
        try? controller.memory.dmaWriteBytes(fisBase &+ offset, fis)
    }

    /// D2H register FIS (0x34) at +0x40; PxTFD takes its status and error.
    func postRegisterFIS(status: UInt8, error: UInt8, interrupt: Bool, lba: UInt64, count: UInt16) {
        var fis = [UInt8](repeating: 0, count: 20)
        fis[0] = 0x34
        fis[1] = interrupt ? 0x40 : 0
        fis[2] = status
        fis[3] = error
        for i in 0..<3 { fis[4 + i] = UInt8(truncatingIfNeeded: lba >> UInt64(8 * i)) }
        fis[7] = 0x40
        for i in 0..<3 { fis[8 + i] = UInt8(truncatingIfNeeded: lba >> UInt64(24 + 8 * i)) }
        fis[12] = UInt8(count & 0xFF)
        fis[13] = UInt8(count >> 8)
        postFIS(fis, at: 0x40)
        taskFile = UInt32(error) << 8 | UInt32(status)
        if interrupt { raise(Interrupt.d2hRegister) }
    }

    /// PIO setup FIS (0x5F) at +0x20, device to host, for a PIO data-in command's data.
    func postPIOSetupFIS(bytes: Int, endStatus: UInt8) {
        var fis = [UInt8](repeating: 0, count: 20)
        fis[0] = 0x5F
        fis[1] = 0x20 | 0x40 // D (to host), I
        fis[2] = Status.ready | Status.seekDone | Status.drq
        fis[15] = endStatus
        fis[16] = UInt8(bytes & 0xFF)
        fis[17] = UInt8((bytes >> 8) & 0xFF)
        postFIS(fis, at: 0x20)
        raise(Interrupt.pioSetup)
    }

    /// Set Device Bits FIS (0xA1) at +0x58: completes the queued commands in `finished`.
    func postSetDeviceBitsFIS(finished: UInt32, status: UInt8, error: UInt8) {
        var fis = [UInt8](repeating: 0, count: 8)
        fis[0] = 0xA1
        fis[1] = 0x40
        fis[2] = status & 0x77
        fis[3] = error
        for i in 0..<4 { fis[4 + i] = UInt8(truncatingIfNeeded: finished >> UInt32(8 * i)) }
        postFIS(fis, at: 0x58)
        active &= ~finished
        taskFile = UInt32(error) << 8 | UInt32(status)
        raise(Interrupt.setDeviceBits)
    }

    // MARK: Command engine

    /// Runs every issued slot, lowest first, until none is left or one stops the engine.
    func processCommands() {
        while command & Command.start != 0, !halted, !waitingForSpace, issued != 0 {
            let slot = issued.trailingZeroBitCount
            command = (command & ~0x1F00) | UInt32(slot) << 8 // CCS: the slot being run
            runSlot(slot)
        }
    }

    func retry() {
        guard waitingForSpace else { return }
        waitingForSpace = false
        processCommands()
    }

    /// The end of a command, as the engine acts on it.
    enum Outcome {
        /// Done; `transferred` bytes went through the PRDT. `pioIn` commands get a PIO setup FIS.
        case done(transferred: Int, pioIn: Bool, lba: UInt64)
        /// A queued command accepted; it completes with a Set Device Bits FIS.
        case queued(tag: Int)
        /// The drive refused or failed the command (ATA error register value).
        case failed(error: UInt8)
        /// The guest's tables or buffers are not in RAM.
        case hostBusError
        /// A storage stop: the command stays issued (host disk full) or fails (fsync).
        case stopped(DiskControllerStop)
    }

    private func runSlot(_ slot: Int) {
        let bit = UInt32(1) << UInt32(slot)
        let headerAddress = commandListBase &+ UInt64(slot * 32)
        let outcome: Outcome
        var request: AHCICommandRequest?
        do throws(DMAError) {
            let parsed = try AHCICommandRequest(slot: slot, header: headerAddress, memory: controller.memory)
            request = parsed
            outcome = execute(parsed)
        } catch {
            outcome = .hostBusError
        }
        switch outcome {
        case .done(let transferred, let pioIn, let lba):
            try? controller.memory.dmaWrite(headerAddress + 4, value: UInt32(transferred))
            issued &= ~bit
            if pioIn { postPIOSetupFIS(bytes: transferred, endStatus: Status.good) }
            postRegisterFIS(status: Status.good, error: 0, interrupt: true, lba: lba, count: 0)
        case .queued(let tag):
            // Accepted (BSY clear, slot free), then done: the SDB FIS clears its SACT bit.
            issued &= ~bit
            postSetDeviceBitsFIS(finished: 1 << UInt32(tag), status: Status.good, error: 0)
        case .failed(let error):
            fail(slot: slot, request: request, error: error, extra: 0)
        case .hostBusError:
            fail(slot: slot, request: request, error: 0x04, extra: Interrupt.hostBusFatal)
        case .stopped(let reason):
            if case .hostDiskFull = reason {
                waitingForSpace = true
            } else {
                fail(slot: slot, request: request, error: 0x04, extra: 0)
            }
            controller.stopped(reason)
        }
    }

    /// An error: the slot stays issued (PxCMD.CCS names it), PxIS.TFES, and the engine halts
    /// until software restarts it, as the AHCI error recovery expects.
    private func fail(slot: Int, request: AHCICommandRequest?, error: UInt8, extra: UInt32) {
        halted = true
        let status = Status.ready | Status.error
        if let request, request.isQueued {
            lastQueuedError = (request.tag, status, error)
            postSetDeviceBitsFIS(finished: 0, status: status, error: error)
            issued &= ~(UInt32(1) << UInt32(slot))
        } else {
            postRegisterFIS(status: status, error: error, interrupt: true, lba: 0, count: 0)
        }
        raise(Interrupt.taskFileError | extra)
    }
}
