import Foundation
@testable import Engine

/// A virtio-blk device on 16 MiB of guest RAM, driven through its BAR as Linux's virtio_pci
/// and virtio_blk would: status handshake, one queue of 16 entries in RAM, on a PCI bus in
/// slot 5 (INTA# to PIRQA) with its GSI recorded.
final class VirtioBlockRig {
    static let bar: UInt32 = 0xFE00_0000
    static let slot = 5
    static let interruptLine = InterruptRouter.pirqBase + PCIBus.pirq(slot: slot, pin: 1)
    static let descriptors: UInt64 = 0x20000
    static let driverRing: UInt64 = 0x21000
    static let deviceRing: UInt64 = 0x22000
    static let queueSize: UInt16 = 16
    static let common = 0x0000, isr = 0x1000, deviceConfig = 0x2000, notify = 0x3000

    let memory: MemoryMap
    let ports = PortMap()
    let irqs = IRQRecorder()
    let bus: PCIBus
    let block: VirtioBlock
    var stops: [DiskControllerStop] = []
    private var nextDescriptor: UInt16 = 0
    private var availableIndex: UInt16 = 0

    init(disk: BlockDevice) throws {
        memory = try MemoryMap(ramSize: 16 << 20)
        block = VirtioBlock(disk: disk, memory: memory)
        bus = PCIBus(memory: memory, ports: ports, interrupts: irqs.router)
        bus.attach(block.transport, device: Self.slot)
        block.onStop = { [unowned self] in stops.append($0) }
        block.transport.reset()
        block.transport.configWrite(0x10 + 4 * VirtioPCITransport.barIndex, width: 4, value: Self.bar)
        block.transport.configWrite(0x04, width: 2, value: 0x0006)
    }

    func read(_ offset: Int, _ width: Int = 4) -> UInt32 { memory.read(Self.bar + UInt32(offset), width: width) }
    func write(_ offset: Int, _ value: UInt32, _ width: Int = 4) { memory.write(Self.bar + UInt32(offset), width: width, value: value) }
    var status: UInt8 { UInt8(read(Self.common + 0x14, 1)) }
    func setStatus(_ value: UInt8) { write(Self.common + 0x14, UInt32(value), 1) }

    func offeredFeatures() -> UInt64 {
        write(Self.common + 0x00, 0)
        let low = read(Self.common + 0x04)
        write(Self.common + 0x00, 1)
        return UInt64(read(Self.common + 0x04)) << 32 | UInt64(low)
    }

    func setDriverFeatures(_ features: UInt64) {
        write(Self.common + 0x08, 0)
        write(Self.common + 0x0C, UInt32(truncatingIfNeeded: features))
        write(Self.common + 0x08, 1)
        write(Self.common + 0x0C, UInt32(features >> 32))
    }

    /// The whole driver bring-up; returns the status read back after FEATURES_OK.
    @discardableResult
    func initialize(features: UInt64? = nil) -> UInt8 {
        setStatus(0)
        nextDescriptor = 0
        availableIndex = 0
        setStatus(1)
        setStatus(1 | 2)
        setDriverFeatures(features ?? offeredFeatures())
        setStatus(1 | 2 | 8)
        let afterFeatures = status
        write(Self.common + 0x16, 0, 2)
        write(Self.common + 0x18, UInt32(Self.queueSize), 2)
        write(Self.common + 0x20, UInt32(Self.descriptors))
        write(Self.common + 0x24, 0)
        write(Self.common + 0x28, UInt32(Self.driverRing))
        write(Self.common + 0x2C, 0)
        write(Self.common + 0x30, UInt32(Self.deviceRing))
        write(Self.common + 0x34, 0)
        write(Self.common + 0x1C, 1, 2)
        setStatus(1 | 2 | 8 | 4)
        return afterFeatures
    }

    func put(_ bytes: [UInt8], at address: UInt64) {
        for (i, byte) in bytes.enumerated() { memory.write(UInt32(address) + UInt32(i), width: 1, value: UInt32(byte)) }
    }

    func bytes(at address: UInt64, _ count: Int) -> [UInt8] {
        (0..<count).map { UInt8(memory.read(UInt32(address) + UInt32($0), width: 1)) }
    }

    /// Writes descriptor `index` of the table at `table`.
    func descriptor(_ index: UInt16, address: UInt64, length: UInt32, flags: UInt16, next: UInt16 = 0,
                    table: UInt64 = descriptors) {
        let at = UInt32(table) + 16 * UInt32(index)
        memory.write(at, width: 4, value: UInt32(truncatingIfNeeded: address))
        memory.write(at + 4, width: 4, value: UInt32(truncatingIfNeeded: address >> 32))
        memory.write(at + 8, width: 4, value: length)
        memory.write(at + 12, width: 2, value: UInt32(flags))
        memory.write(at + 14, width: 2, value: UInt32(next))
    }

    static func header(type: UInt32, sector: UInt64) -> [UInt8] {
        (0..<4).map { UInt8(truncatingIfNeeded: type >> UInt32(8 * $0)) } + [0, 0, 0, 0]
            + (0..<8).map { UInt8(truncatingIfNeeded: sector >> UInt64(8 * $0)) }
    }

    /// Builds a chain (readable buffers, then writable ones) in fresh descriptors and makes it
    /// available; returns its head. `notify` rings the doorbell.
    @discardableResult
    func submit(readable: [(UInt64, Int)], writable: [(UInt64, Int)], notify: Bool = true) -> UInt16 {
        let head = nextDescriptor
        let all = readable.map { ($0.0, $0.1, false) } + writable.map { ($0.0, $0.1, true) }
        for (i, buffer) in all.enumerated() {
            let index = nextDescriptor
            nextDescriptor = (nextDescriptor + 1) % Self.queueSize
            let last = i == all.count - 1
            descriptor(index, address: buffer.0, length: UInt32(buffer.1),
                       flags: (last ? 0 : 1) | (buffer.2 ? 2 : 0), next: nextDescriptor)
        }
        makeAvailable(head)
        if notify { ring() }
        return head
    }

    func makeAvailable(_ head: UInt16) {
        memory.write(UInt32(Self.driverRing) + 4 + 2 * UInt32(availableIndex % Self.queueSize), width: 2, value: UInt32(head))
        availableIndex &+= 1
        memory.write(UInt32(Self.driverRing) + 2, width: 2, value: UInt32(availableIndex))
    }

    func ring() { write(Self.notify, 0, 2) }

    var usedIndex: UInt16 { UInt16(memory.read(UInt32(Self.deviceRing) + 2, width: 2)) }
    func usedElement(_ i: Int) -> (id: UInt32, length: UInt32) {
        let at = UInt32(Self.deviceRing) + 4 + 8 * UInt32(i)
        return (memory.read(at, width: 4), memory.read(at + 4, width: 4))
    }

    /// One complete request with the header at 0x30000, data at `data`, status at 0x31000.
    @discardableResult
    func request(type: UInt32, sector: UInt64, write payload: [UInt8] = [], readInto: (UInt64, Int)? = nil) -> UInt8 {
        put(Self.header(type: type, sector: sector), at: 0x30000)
        put([0xFF], at: 0x31000)
        var readable = [(UInt64(0x30000), 16)]
        if !payload.isEmpty {
            put(payload, at: 0x100000)
            readable.append((0x100000, payload.count))
        }
        submit(readable: readable, writable: (readInto.map { [$0] } ?? []) + [(0x31000, 1)])
        return bytes(at: 0x31000, 1)[0]
    }
}
