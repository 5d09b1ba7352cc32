import Foundation
import Testing
@testable import Engine

/// virtio-blk driven through its PCI capabilities and BAR with a split virtqueue in RAM: no
/// CPU, a raw image in a scratch directory (an in-memory disk where flushes are counted).
@Suite struct VirtioBlockTests {
    static let line = VirtioBlockRig.interruptLine
    let scratch: String
    let image: any DiskImageFile
    let rig: VirtioBlockRig

    init() throws {
        scratch = NSTemporaryDirectory() + "vmtui-virtio-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        image = try DiskImage.create(path: scratch + "/disk.img", format: .raw, size: 8 << 20)
        rig = try VirtioBlockRig(disk: image)
    }

    func cleanUp() { try? FileManager.default.removeItem(atPath: scratch) }

    @Test func pciIdentityAndVendorCapabilities() {
        defer { cleanUp() }
        let t = rig.block.transport!
        #expect(t.configRead(0x00, width: 4) == 0x1042_1AF4)
        #expect(t.configRead(0x06, width: 2) & 0x10 != 0) // capability list
        var at = Int(t.configRead(0x34, width: 1))
        var found: [UInt8: (bar: UInt32, offset: UInt32, length: UInt32)] = [:]
        var multiplier: UInt32 = 0
        var msix: Int?
        while at != 0 {
            let id = t.configRead(at, width: 1)
            #expect(id == 0x09 || id == 0x11)
            if id == 0x11 {
                msix = at
                at = Int(t.configRead(at + 1, width: 1))
                continue
            }
            let type = UInt8(t.configRead(at + 3, width: 1))
            found[type] = (t.configRead(at + 4, width: 1), t.configRead(at + 8, width: 4), t.configRead(at + 12, width: 4))
            if type == 2 { multiplier = t.configRead(at + 16, width: 4) }
            at = Int(t.configRead(at + 1, width: 1))
        }
        #expect(found[1]?.offset == 0x0000 && found[2]?.offset == 0x3000 && found[3]?.offset == 0x1000 && found[4]?.offset == 0x2000)
        #expect(found.values.allSatisfy { $0.bar == 4 })
        #expect(multiplier == 4)
        // MSI-X: a vector per queue and one for configuration changes, table and PBA in BAR1.
        #expect(msix.map { t.configRead($0 + 2, width: 2) & 0x7FF } == 1)
        #expect(msix.map { t.configRead($0 + 4, width: 4) } == 1)
        #expect(msix.map { t.configRead($0 + 8, width: 4) } == 0x21)
    }

    /// With MSI-X enabled (capability found by walking the list, table programmed through
    /// BAR1) a completion sends the queue's vector and touches neither the ISR nor INTA#;
    /// a vector the table lacks reads back as NO_VECTOR and a queue on NO_VECTOR sends nothing.
    @Test func completionsByMSIXWhenEnabled() throws {
        defer { cleanUp() }
        let t = rig.block.transport!
        let msis = MSIRecorder()
        rig.bus.msiSink = msis
        var cap = Int(t.configRead(0x34, width: 1))
        while t.configRead(cap, width: 1) != 0x11 { cap = Int(t.configRead(cap + 1, width: 1)) }
        let table: UInt32 = 0xFE01_0000
        t.configWrite(0x14, width: 4, value: table) // BAR1
        rig.memory.write(table + 16, width: 4, value: 0xFEE0_0000) // entry 1: address, data, unmasked
        rig.memory.write(table + 20, width: 4, value: 0)
        rig.memory.write(table + 24, width: 4, value: 0x52)
        rig.memory.write(table + 28, width: 4, value: 0)
        t.configWrite(cap + 2, width: 2, value: 0x8000)
        rig.initialize()
        rig.write(VirtioBlockRig.common + 0x10, 2, 2) // config vector: the table has 0-1 only
        #expect(rig.read(VirtioBlockRig.common + 0x10, 2) == 0xFFFF)
        rig.write(VirtioBlockRig.common + 0x16, 0, 2)
        rig.write(VirtioBlockRig.common + 0x1A, 1, 2)
        #expect(rig.read(VirtioBlockRig.common + 0x1A, 2) == 1)
        #expect(rig.request(type: 4, sector: 0) == 0) // flush
        #expect(msis.messages == [MSIMessage(address: 0xFEE0_0000, data: 0x52)])
        #expect(!rig.irqs.levels[Self.line])
        #expect(rig.read(VirtioBlockRig.isr, 1) == 0)
        rig.write(VirtioBlockRig.common + 0x1A, 0xFFFF, 2)
        #expect(rig.request(type: 4, sector: 0) == 0)
        #expect(msis.messages.count == 1)
        #expect(!rig.irqs.levels[Self.line])
    }

    @Test func featureNegotiationNeedsVersion1AndASubset() {
        defer { cleanUp() }
        let offered = rig.offeredFeatures()
        #expect(offered & (1 << 32) != 0) // VERSION_1
        for bit in [2, 6, 9, 13, 14, 28] { #expect(offered & (1 << UInt64(bit)) != 0, "feature bit \(bit)") }
        #expect(rig.initialize(features: offered & ~(1 << 32)) & 8 == 0) // a legacy driver is refused
        #expect(rig.initialize(features: offered | (1 << 40)) & 8 == 0) // something not offered
        #expect(rig.initialize(features: (1 << 32) | (1 << 9)) & 8 == 8)
        #expect(rig.status == 0xF)
        let capacity = UInt64(rig.read(VirtioBlockRig.deviceConfig)) | UInt64(rig.read(VirtioBlockRig.deviceConfig + 4)) << 32
        #expect(capacity == image.size / 512)
        #expect(rig.read(VirtioBlockRig.deviceConfig + 0x14) == 512)
        rig.setStatus(0) // reset
        #expect(rig.status == 0)
        rig.write(VirtioBlockRig.common + 0x16, 0, 2)
        #expect(rig.read(VirtioBlockRig.common + 0x1C, 2) == 0) // queue disabled again
    }

    @Test func readWriteFlushDiscardAndWriteZeroesThroughTheQueue() throws {
        defer { cleanUp() }
        rig.initialize()
        let data = (0..<4096).map { UInt8(truncatingIfNeeded: $0 * 13 + 1) }
        #expect(rig.request(type: 1, sector: 40, write: data) == 0)
        #expect(rig.usedIndex == 1)
        #expect(rig.usedElement(0) == (0, 1))
        #expect(rig.irqs.levels[Self.line])
        #expect(rig.read(VirtioBlockRig.isr, 1) == 1) // queue interrupt; reading acknowledges
        #expect(!rig.irqs.levels[Self.line])
        var onDisk = [UInt8](repeating: 0, count: 4096)
        try onDisk.withUnsafeMutableBytes { try image.read(at: 40 * 512, into: $0) }
        #expect(onDisk == data)

        #expect(rig.request(type: 0, sector: 40, readInto: (0x200000, 4096)) == 0)
        #expect(rig.bytes(at: 0x200000, 4096) == data)
        #expect(rig.usedElement(1).length == 4097)
        #expect(rig.request(type: 4, sector: 0) == 0) // FLUSH

        // WRITE_ZEROES over the first KiB, DISCARD over the whole 4 KiB block behind it.
        let zeroes = VirtioBlockRig.header(type: 0, sector: 40).suffix(8) + [2, 0, 0, 0, 0, 0, 0, 0]
        #expect(rig.request(type: 13, sector: 0, write: Array(zeroes)) == 0)
        try onDisk.withUnsafeMutableBytes { try image.read(at: 40 * 512, into: $0) }
        #expect(onDisk[0..<1024].allSatisfy { $0 == 0 } && Array(onDisk[1024...]) == Array(data[1024...]))
        let discard = VirtioBlockRig.header(type: 0, sector: 40).suffix(8) + [8, 0, 0, 0, 0, 0, 0, 0]
        #expect(rig.request(type: 11, sector: 0, write: Array(discard)) == 0)
        #expect(try image.readsAsZeros(at: 40 * 512, count: 4096))
        #expect(rig.usedIndex == 5)
        #expect(rig.request(type: 99, sector: 0) == 2) // unsupported
    }

    @Test func indirectDescriptorTable() {
        defer { cleanUp() }
        rig.initialize()
        let data = [UInt8](repeating: 0x5A, count: 1024)
        rig.put(VirtioBlockRig.header(type: 1, sector: 7), at: 0x30000)
        rig.put(data, at: 0x100000)
        let table: UInt64 = 0x40000
        rig.descriptor(0, address: 0x30000, length: 16, flags: 1, next: 1, table: table)
        rig.descriptor(1, address: 0x100000, length: 1024, flags: 1, next: 2, table: table)
        rig.descriptor(2, address: 0x31000, length: 1, flags: 2, table: table)
        rig.descriptor(0, address: table, length: 48, flags: 4)
        rig.makeAvailable(0)
        rig.ring()
        #expect(rig.usedIndex == 1)
        #expect(rig.bytes(at: 0x31000, 1) == [0])
        #expect(rig.request(type: 0, sector: 7, readInto: (0x200000, 1024)) == 0)
        #expect(rig.bytes(at: 0x200000, 1024) == data)
    }

    @Test func sectorsPastTheEndAreAnIOError() {
        defer { cleanUp() }
        rig.initialize()
        #expect(rig.request(type: 0, sector: image.size / 512 - 1, readInto: (0x200000, 1024)) == 1)
        #expect(rig.request(type: 1, sector: UInt64.max / 256, write: [UInt8](repeating: 1, count: 512)) == 1)
        #expect(rig.usedIndex == 2)
        #expect(rig.status & 0x40 == 0)
    }

    @Test func descriptorsOutsideRAMNeedAReset() {
        defer { cleanUp() }
        rig.initialize()
        rig.put(VirtioBlockRig.header(type: 0, sector: 0), at: 0x30000)
        rig.submit(readable: [(0x30000, 16)], writable: [(0xF000_0000, 512), (0x31000, 1)])
        #expect(rig.status & 0x40 != 0) // DEVICE_NEEDS_RESET
        #expect(rig.usedIndex == 0)
        #expect(rig.read(VirtioBlockRig.isr, 1) & 2 != 0) // configuration change
        // A buffer straddling the end of RAM, after a reset.
        rig.initialize()
        #expect(rig.status & 0x40 == 0)
        rig.submit(readable: [(0x30000, 16)], writable: [(UInt64(rig.memory.ramSize) - 256, 512), (0x31000, 1)])
        #expect(rig.status & 0x40 != 0)
        rig.initialize()
        #expect(rig.request(type: 4, sector: 0) == 0) // the device works again
    }

    @Test func descriptorLoopsAndIndicesPastTheQueueNeedAReset() {
        defer { cleanUp() }
        rig.initialize()
        rig.put(VirtioBlockRig.header(type: 0, sector: 0), at: 0x30000)
        rig.descriptor(0, address: 0x30000, length: 16, flags: 1, next: 1)
        rig.descriptor(1, address: 0x31000, length: 1, flags: 3, next: 0)
        rig.makeAvailable(0)
        rig.ring()
        #expect(rig.status & 0x40 != 0)
        #expect(rig.usedIndex == 0)

        rig.initialize()
        rig.makeAvailable(VirtioBlockRig.queueSize + 3) // head past the table
        rig.ring()
        #expect(rig.status & 0x40 != 0)

        rig.initialize()
        rig.memory.write(UInt32(VirtioBlockRig.driverRing) + 2, width: 2, value: 1000) // index far ahead
        rig.ring()
        #expect(rig.status & 0x40 != 0)

        rig.initialize()
        let table: UInt64 = 0x40000 // an indirect table whose chain loops
        rig.descriptor(0, address: 0x30000, length: 16, flags: 1, next: 1, table: table)
        rig.descriptor(1, address: 0x31000, length: 1, flags: 3, next: 0, table: table)
        rig.descriptor(0, address: table, length: 32, flags: 4)
        rig.makeAvailable(0)
        rig.ring()
        #expect(rig.status & 0x40 != 0)
    }
}
