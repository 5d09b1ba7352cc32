/// Virtio 1.x over PCI, modern interface (4.1): one 16 KiB memory BAR holding the common
/// configuration, the ISR status, the device configuration and the queue notification
/// registers, each described by a vendor-specific PCI capability. Feature negotiation, the
/// status handshake and device reset live here. Interrupts go out as MSI-X messages once the
/// guest enables MSI-X (table in BAR1, one vector per queue plus one for configuration
/// changes, as QEMU), otherwise on INTA# through the ISR.
public final class VirtioPCITransport: PCIFunction, MMIODevice {
    public static let barIndex = 4
    public static let barSize = 0x4000
    enum Region {
        static let common = 0x0000, isr = 0x1000, device = 0x2000, notify = 0x3000
        static let commonLength = 0x38, isrLength = 4, deviceLength = 0x1000, notifyLength = 0x1000
    }
    static let notifyMultiplier = 4
    static let msixBarIndex = 1
    static let noVector: UInt16 = 0xFFFF

    enum Status {
        static let acknowledge: UInt8 = 1, driver: UInt8 = 2, driverOK: UInt8 = 4
        static let featuresOK: UInt8 = 8, needsReset: UInt8 = 64, failed: UInt8 = 128
    }
    static let version1: UInt64 = 1 << 32
    static let indirectDescriptors: UInt64 = 1 << 28

    public let config: PCIConfigSpace
    let msix: PCIMSIX
    /// Unowned: see `AHCI.memory`.
    unowned let memory: MemoryMap
    private unowned let device: VirtioDevice

    let queues: [VirtioQueue]
    private(set) var status: UInt8 = 0
    private(set) var driverFeatures: UInt64 = 0
    private var deviceFeatureSelect: UInt32 = 0
    private var driverFeatureSelect: UInt32 = 0
    private var queueSelect: UInt16 = 0
    private var configGeneration: UInt8 = 0
    /// MSI-X vectors the driver chose for configuration changes and for each queue.
    private var configVector = VirtioPCITransport.noVector
    private var queueVectors: [UInt16]
    private(set) var isr: UInt8 = 0
    /// Why the device asked for a reset, for the machine's report.
    public private(set) var lastError: String?

    init(device: VirtioDevice, memory: MemoryMap, classCode: UInt32) {
        self.device = device
        self.memory = memory
        queues = device.queueSizes.map { VirtioQueue(maxSize: $0) }
        queueVectors = queues.map { _ in VirtioPCITransport.noVector }
        config = PCIConfigSpace(vendor: 0x1AF4, device: 0x1040 + device.deviceType, revision: 1,
                                classCode: classCode, interruptPin: 1)
        msix = config.addMSIX(vectors: queues.count + 1, bar: VirtioPCITransport.msixBarIndex)
        config.defineMemoryBAR(VirtioPCITransport.barIndex, size: UInt64(VirtioPCITransport.barSize), handler: self)
        for body in VirtioPCITransport.capabilityBodies() { config.addCapability(id: 0x09, body: body) }
    }

    var offeredFeatures: UInt64 { device.features | VirtioPCITransport.version1 | VirtioPCITransport.indirectDescriptors }

    // MARK: Capabilities

    /// The bodies of the four vendor-specific capabilities (common, notify, ISR, device), each
    /// from cap_len on: what `addCapability` takes after the ID (vendor-specific, 0x09).
    static func capabilityBodies() -> [[UInt8]] {
        func body(_ type: UInt8, _ offset: Int, _ length: Int, extra: [UInt8] = []) -> [UInt8] {
            [UInt8(16 + extra.count), type, UInt8(barIndex), 0, 0, 0] + le32(offset) + le32(length) + extra
        }
        return [
            body(1, Region.common, Region.commonLength),
            body(2, Region.notify, Region.notifyLength, extra: le32(notifyMultiplier)),
            body(3, Region.isr, Region.isrLength),
            body(4, Region.device, Region.deviceLength),
        ]
    }

    private static func le32(_ value: Int) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }

    // MARK: PCI and BAR

    /// Power-on or machine reset: PCI header (command, BAR) reset, device reset.
    public func reset() {
        config.resetHeader()
        resetDevice()
    }

    public func mmioRead(_ address: UInt32, width: Int) -> UInt32 { read(offset: Int(address), width: width) }

    public func mmioWrite(_ address: UInt32, width: Int, value: UInt32) {
        write(offset: Int(address), width: width, value: value)
    }

    // MARK: Registers

    public func read(offset: Int, width: Int) -> UInt32 {
        switch offset {
        case Region.common..<(Region.common + Region.commonLength):
            return VirtioPCITransport.field(commonBytes(), offset - Region.common, width)
        case Region.isr..<(Region.isr + Region.isrLength):
            let value = isr // reading acknowledges
            isr = 0
            config.setINTx(false)
            return UInt32(value)
        case Region.device..<(Region.device + Region.deviceLength):
            return VirtioPCITransport.field(device.configBytes(), offset - Region.device, width)
        default:
            return 0
        }
    }

    public func write(offset: Int, width: Int, value: UInt32) {
        switch offset {
        case Region.common..<(Region.common + Region.commonLength):
            writeCommon(offset - Region.common, value: value)
        case Region.notify..<(Region.notify + Region.notifyLength):
            let index = Int(value & 0xFFFF)
            guard index < queues.count, status & Status.driverOK != 0, status & Status.needsReset == 0 else { return }
            device.process(queue: index, on: self)
        default:
            break // ISR and device configuration are read-only here
        }
    }

    private static func field(_ bytes: [UInt8], _ offset: Int, _ width: Int) -> UInt32 {
        var value: UInt32 = 0
        for i in 0..<width where offset + i < bytes.count { value |= UInt32(bytes[offset + i]) << UInt32(8 * i) }
        return value
    }

    private var selected: VirtioQueue? { Int(queueSelect) < queues.count ? queues[Int(queueSelect)] : nil }

    /// The common configuration structure (4.1.4.3) as it reads now.
    private func commonBytes() -> [UInt8] {
        var b = StorageBytes(count: Region.commonLength)
        let featureWord = deviceFeatureSelect < 2 ? UInt32(truncatingIfNeeded: offeredFeatures >> (32 * UInt64(deviceFeatureSelect))) : 0
        let driverWord = driverFeatureSelect < 2 ? UInt32(truncatingIfNeeded: driverFeatures >> (32 * UInt64(driverFeatureSelect))) : 0
        b.setLE32(0x00, deviceFeatureSelect)
        b.setLE32(0x04, featureWord)
        b.setLE32(0x08, driverFeatureSelect)
        b.setLE32(0x0C, driverWord)
        b.setLE16(0x10, configVector)
        b.setLE16(0x12, UInt16(queues.count))
        b.bytes[0x14] = status
        b.bytes[0x15] = configGeneration
        b.setLE16(0x16, queueSelect)
        if let q = selected {
            b.setLE16(0x18, q.size)
            b.setLE16(0x1A, queueVectors[Int(queueSelect)])
            b.setLE16(0x1C, q.enabled ? 1 : 0)
            b.setLE16(0x1E, queueSelect) // notify offset: the queue index
            b.setLE64(0x20, q.descriptorTable)
            b.setLE64(0x28, q.driverRing)
            b.setLE64(0x30, q.deviceRing)
        }
        return b.bytes
    }

    private func writeCommon(_ offset: Int, value: UInt32) {
        func setHalf(_ old: UInt64, high: Bool) -> UInt64 {
            high ? old & 0xFFFF_FFFF | UInt64(value) << 32 : old & ~0xFFFF_FFFF | UInt64(value)
        }
        // Queue fields only change before the queue is enabled (4.1.4.3.2).
        let q = selected.flatMap { $0.enabled ? nil : $0 }
        switch offset {
        case 0x00: deviceFeatureSelect = value
        case 0x10: configVector = vector(value)
        case 0x08: driverFeatureSelect = value
        case 0x0C:
            guard status & Status.featuresOK == 0, driverFeatureSelect < 2 else { return }
            let shift = 32 * UInt64(driverFeatureSelect)
            driverFeatures = driverFeatures & ~(0xFFFF_FFFF << shift) | UInt64(value) << shift
        case 0x14: writeStatus(UInt8(truncatingIfNeeded: value))
        case 0x16: queueSelect = UInt16(truncatingIfNeeded: value)
        case 0x18:
            let size = UInt16(truncatingIfNeeded: value)
            if let q, size > 0, size <= q.maxSize { q.size = size }
        case 0x1A: if selected != nil { queueVectors[Int(queueSelect)] = vector(value) }
        case 0x1C:
            if let q = selected, value & 1 == 1 { q.enabled = true }
        case 0x20, 0x24: if let q { q.descriptorTable = setHalf(q.descriptorTable, high: offset == 0x24) }
        case 0x28, 0x2C: if let q { q.driverRing = setHalf(q.driverRing, high: offset == 0x2C) }
        case 0x30, 0x34: if let q { q.deviceRing = setHalf(q.deviceRing, high: offset == 0x34) }
        default: break
        }
    }

    /// A vector the table has, or NO_VECTOR (what the driver reads back when it asked too much).
    private func vector(_ value: UInt32) -> UInt16 {
        value < UInt32(msix.vectors) ? UInt16(value) : VirtioPCITransport.noVector
    }

    /// The status handshake: 0 resets; FEATURES_OK sticks only for a subset of what was
    /// offered that includes VERSION_1 (a legacy-only driver is refused here).
    private func writeStatus(_ value: UInt8) {
        guard value != 0 else { return resetDevice() }
        var new = value & ~Status.needsReset | status & Status.needsReset
        if new & Status.featuresOK != 0 && status & Status.featuresOK == 0 {
            let acceptable = driverFeatures & ~offeredFeatures == 0 && driverFeatures & VirtioPCITransport.version1 != 0
            if !acceptable { new &= ~Status.featuresOK }
        }
        status = new
    }

    private func resetDevice() {
        status = 0
        driverFeatures = 0
        deviceFeatureSelect = 0
        driverFeatureSelect = 0
        queueSelect = 0
        isr = 0
        config.setINTx(false)
        configVector = VirtioPCITransport.noVector
        queueVectors = queues.map { _ in VirtioPCITransport.noVector }
        for q in queues { q.reset() }
        device.reset()
    }

    // MARK: For the device

    func negotiated(_ feature: UInt64) -> Bool { driverFeatures & feature != 0 }

    /// Used buffers were added to `queue`: interrupt unless the driver suppressed it.
    func notifyUsed(_ queue: VirtioQueue) {
        guard !queue.interruptsSuppressed(memory) else { return }
        guard let index = queues.firstIndex(where: { $0 === queue }) else { return }
        interrupt(isrBit: 1, vector: queueVectors[index])
    }

    /// The driver broke the queue protocol: DEVICE_NEEDS_RESET and a configuration interrupt.
    func needsReset(_ error: VirtioQueueError) {
        lastError = error.description
        status |= Status.needsReset
        configGeneration &+= 1
        interrupt(isrBit: 2, vector: configVector)
    }

    /// With MSI-X on, the chosen vector's message (none for NO_VECTOR) and no ISR; otherwise
    /// the ISR bit and INTA#.
    private func interrupt(isrBit: UInt8, vector: UInt16) {
        if msix.enabled {
            if vector != VirtioPCITransport.noVector { msix.notify(vector: Int(vector)) }
            return
        }
        isr |= isrBit
        config.setINTx(true)
    }
}
