/// A split virtqueue (virtio 1.x, 2.7): the descriptor table, the driver's available ring and
/// the device's used ring in guest memory, all reached through the DMA API. A chain is checked
/// whole before a device touches it: every buffer in RAM, no loop, no nested indirect table,
/// ring indices within the queue; anything else is a `VirtioQueueError`, after which the
/// device asks for a reset (DEVICE_NEEDS_RESET) rather than guessing.
public final class VirtioQueue {
    enum DescriptorFlag {
        static let next: UInt16 = 1, write: UInt16 = 2, indirect: UInt16 = 4
    }

    /// One buffer of a chain: guest address, length, and whether the device writes it.
    struct Buffer: Equatable {
        let address: UInt64
        let length: Int
        let writable: Bool
    }

    /// A descriptor chain the driver made available: its head index and its buffers.
    struct Chain {
        let head: UInt16
        let buffers: [Buffer]
        var readable: [Buffer] { buffers.filter { !$0.writable } }
        var writable: [Buffer] { buffers.filter(\.writable) }
    }

    /// The largest indirect table accepted (the spec's limit is the queue size for direct
    /// chains; indirect tables are bounded only by their length).
    static let maxIndirect = 1024

    let maxSize: UInt16
    var size: UInt16
    var enabled = false
    var descriptorTable: UInt64 = 0
    var driverRing: UInt64 = 0
    var deviceRing: UInt64 = 0
    /// The next available-ring entry to take, and the next used-ring entry to fill.
    private(set) var lastAvailable: UInt16 = 0
    private(set) var usedIndex: UInt16 = 0

    init(maxSize: UInt16) {
        self.maxSize = maxSize
        size = maxSize
    }

    func reset() {
        size = maxSize
        enabled = false
        descriptorTable = 0
        driverRing = 0
        deviceRing = 0
        lastAvailable = 0
        usedIndex = 0
    }

    /// The next available chain without taking it (`take()` does, once it is complete), so a
    /// request that must wait (a full host disk) is found again.
    func peek(_ memory: MemoryMap) throws(VirtioQueueError) -> Chain? {
        guard enabled, size > 0 else { return nil }
        let available: UInt16 = try read(memory, driverRing &+ 2)
        guard available != lastAvailable else { return nil }
        guard available &- lastAvailable <= size else { throw .availableIndex(available) }
        let slot = UInt64(lastAvailable % size)
        let head: UInt16 = try read(memory, driverRing &+ 4 &+ 2 * slot)
        return Chain(head: head, buffers: try walk(memory, from: head))
    }

    func take() { lastAvailable &+= 1 }

    /// Whether the driver asked for no interrupts (VIRTQ_AVAIL_F_NO_INTERRUPT).
    func interruptsSuppressed(_ memory: MemoryMap) -> Bool {
        let flags: UInt16 = (try? read(memory, driverRing)) ?? 0
        return flags & 1 != 0
    }

    /// Puts a finished chain in the used ring (`written` bytes of its writable buffers).
    func complete(_ memory: MemoryMap, head: UInt16, written: Int) throws(VirtioQueueError) {
        let entry = deviceRing &+ 4 &+ 8 * UInt64(usedIndex % size)
        do throws(DMAError) {
            try memory.dmaWrite(entry, value: UInt32(head))
            try memory.dmaWrite(entry &+ 4, value: UInt32(truncatingIfNeeded: written))
            usedIndex &+= 1
            try memory.dmaWrite(deviceRing &+ 2, value: usedIndex)
        } catch {
            throw .outsideRAM(error)
        }
    }

    private func read<T: FixedWidthInteger>(_ memory: MemoryMap, _ address: UInt64) throws(VirtioQueueError) -> T {
        do throws(DMAError) {
            return try memory.dmaRead(address, as: T.self)
        } catch {
            throw .outsideRAM(error)
        }
    }

    /// Follows a chain from `head`, through at most one indirect table.
    private func walk(_ memory: MemoryMap, from head: UInt16) throws(VirtioQueueError) -> [Buffer] {
        var buffers: [Buffer] = []
        var index = head
        var seen = 0
        while true {
            guard index < size else { throw .descriptorIndex(index) }
            seen += 1
            guard seen <= Int(size) else { throw .loop }
            let descriptor = try readDescriptor(memory, descriptorTable &+ 16 * UInt64(index))
            if descriptor.flags & DescriptorFlag.indirect != 0 {
                buffers += try walkIndirect(memory, descriptor)
            } else {
                buffers.append(try check(memory, descriptor))
            }
            guard descriptor.flags & DescriptorFlag.next != 0 else { break }
            index = descriptor.next
        }
        try checkOrder(buffers)
        return buffers
    }

    private func walkIndirect(_ memory: MemoryMap, _ table: Descriptor) throws(VirtioQueueError) -> [Buffer] {
        guard table.flags & DescriptorFlag.next == 0, table.length % 16 == 0, table.length > 0,
              table.length / 16 <= VirtioQueue.maxIndirect else { throw .indirectTable }
        let count = Int(table.length / 16)
        var buffers: [Buffer] = []
        var index = 0
        var seen = 0
        while true {
            guard index < count else { throw .descriptorIndex(UInt16(truncatingIfNeeded: index)) }
            seen += 1
            guard seen <= count else { throw .loop }
            let descriptor = try readDescriptor(memory, table.address &+ 16 * UInt64(index))
            guard descriptor.flags & DescriptorFlag.indirect == 0 else { throw .indirectTable }
            buffers.append(try check(memory, descriptor))
            guard descriptor.flags & DescriptorFlag.next != 0 else { break }
            index = Int(descriptor.next)
        }
        return buffers
    }

    private struct Descriptor {
        let address: UInt64
        let length: UInt32
        let flags: UInt16
        let next: UInt16
    }

    private func readDescriptor(_ memory: MemoryMap, _ address: UInt64) throws(VirtioQueueError) -> Descriptor {
        Descriptor(address: try read(memory, address), length: try read(memory, address &+ 8),
                   flags: try read(memory, address &+ 12), next: try read(memory, address &+ 14))
    }

    /// A buffer must lie wholly in RAM (writable RAM when the device writes it).
    private func check(_ memory: MemoryMap, _ descriptor: Descriptor) throws(VirtioQueueError) -> Buffer {
        let writable = descriptor.flags & DescriptorFlag.write != 0
        let length = Int(descriptor.length)
        guard memory.dmaCheck(descriptor.address, length: length, write: writable) else {
            throw .outsideRAM(DMAError(address: descriptor.address, length: length, isWrite: writable))
        }
        return Buffer(address: descriptor.address, length: length, writable: writable)
    }

    /// Device-readable buffers come first, device-writable ones after (2.7.4.2).
    private func checkOrder(_ buffers: [Buffer]) throws(VirtioQueueError) {
        if let firstWritable = buffers.firstIndex(where: \.writable),
           buffers[firstWritable...].contains(where: { !$0.writable }) {
            throw .readableAfterWritable
        }
    }
}
