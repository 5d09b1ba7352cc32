import Testing
@testable import Engine

/// PCIConfigSpace and PCIBus without a CPU: the capability list, 64-bit BARs, BAR decoding
/// when the guest moves BARs or toggles the command bits, MSI and MSI-X.
@Suite struct PCIConfigSpaceTests {
    let memory: MemoryMap
    let ports = PortMap()
    let irqs = IRQRecorder()
    let msis = MSIRecorder()
    let bus: PCIBus

    init() throws {
        memory = try MemoryMap(ramSize: 16 << 20)
        bus = PCIBus(memory: memory, ports: ports, interrupts: irqs.router)
        bus.msiSink = msis
    }

    /// Walks the list as a guest does: status bit 4, 0x34, then each next pointer.
    func walk(_ f: PCIFunction) -> [(offset: Int, id: UInt32)] {
        guard f.configRead(0x06, width: 2) & 0x10 != 0 else { return [] }
        var list: [(Int, UInt32)] = []
        var next = Int(f.configRead(0x34, width: 1))
        while next != 0 && list.count < 48 {
            list.append((next, f.configRead(next, width: 1)))
            next = Int(f.configRead(next + 1, width: 1))
        }
        return list
    }

    @Test func capabilityListIsLinkedFrom0x34() {
        let f = PCITestFunction()
        #expect(walk(f).isEmpty)
        #expect(f.configRead(0x06, width: 2) & 0x10 == 0)
        let vendor = f.config.addCapability(id: 0x09, body: [6, 0xAA, 0x55, 0], writableMask: [0, 0, 0xFF, 0])
        let msi = f.config.addMSI(vectors: 1, is64Bit: false)
        let msix = f.config.addMSIX(vectors: 2, bar: 1)
        let list = walk(f)
        #expect(list.map(\.id) == [0x09, 0x05, 0x11])
        #expect(list.map(\.offset) == [vendor, msi.offset, msix.offset])
        #expect(list.map(\.offset) == f.config.capabilityOffsets())
        #expect(vendor == 0x40 && msi.offset == 0x48 && msix.offset == 0x54) // dword-aligned, packed
        f.configWrite(vendor + 2, width: 4, value: 0xFFFF_FFFF) // only the masked byte changes
        #expect(f.configRead(vendor + 2, width: 4) == 0x00FF_AA06)
        f.configWrite(vendor, width: 2, value: 0) // ID and next pointer are read-only
        #expect(walk(f).count == 3)
    }

    @Test func sixtyFourBitBARSizesBothHalves() {
        let f = PCITestFunction()
        f.config.defineMemoryBAR(0, size: 0x4000, handler: nil, prefetchable: true, is64Bit: true)
        f.config.defineMemoryBAR(2, size: 8 << 30, handler: nil, is64Bit: true)
        #expect(f.configRead(0x10, width: 4) == 0x0000_000C)
        for bar in 0x10...0x1C where bar % 4 == 0 { f.configWrite(bar, width: 4, value: 0xFFFF_FFFF) }
        #expect(f.configRead(0x10, width: 4) == 0xFFFF_C00C)
        #expect(f.configRead(0x14, width: 4) == 0xFFFF_FFFF)
        #expect(f.configRead(0x18, width: 4) == 0x0000_0004) // 8 GiB: nothing sizeable below 4 GiB
        #expect(f.configRead(0x1C, width: 4) == 0xFFFF_FFFE)
        f.configWrite(0x18, width: 4, value: 0)
        f.configWrite(0x1C, width: 4, value: 0x0000_0004)
        #expect(f.config.barAddress(2) == 0x4_0000_0000)
    }

    @Test func sixtyFourBitBARDecodesBelow4GiBOnly() {
        let f = PCITestFunction()
        let handler = TestBARHandler(tag: 0xAB00_0000)
        f.config.defineMemoryBAR(0, size: 0x4000, handler: handler, is64Bit: true)
        bus.attach(f, device: 3)
        f.configWrite(0x10, width: 4, value: 0xE000_0000)
        f.configWrite(0x04, width: 2, value: 0x0002)
        #expect(memory.read(0xE000_0010, width: 4) == 0xAB00_0010) // the handler gets the offset
        memory.write(0xE000_3FFC, width: 4, value: 7)
        #expect(handler.writes.last?.offset == 0x3FFC && handler.writes.last?.value == 7)
        f.configWrite(0x14, width: 4, value: 1) // now at 0x1_E000_0000: beyond the 32-bit map
        #expect(memory.read(0xE000_0010, width: 4) == 0xFFFF_FFFF)
        f.configWrite(0x14, width: 4, value: 0)
        #expect(memory.read(0xE000_0010, width: 4) == 0xAB00_0010)
    }

    @Test func movingBARsUnmapsTheOldRangeAndCommandBitsGateDecoding() {
        let f = PCITestFunction()
        let io = TestBARHandler(tag: 0x1000_0000), mmio = TestBARHandler(tag: 0x2000_0000)
        f.config.defineIOBAR(1, size: 0x20, handler: io)
        f.config.defineMemoryBAR(2, size: 0x1000, handler: mmio)
        bus.attach(f, device: 4)
        f.configWrite(0x14, width: 4, value: 0xC040)
        f.configWrite(0x18, width: 4, value: 0xF000_0000)
        #expect(ports.read(0xC044, width: 4) == 0xFFFF_FFFF) // command bits still off
        #expect(memory.read(0xF000_0000, width: 4) == 0xFFFF_FFFF)
        f.configWrite(0x04, width: 2, value: 0x0003)
        #expect(ports.read(0xC044, width: 4) == 0x1000_0004)
        #expect(memory.read(0xF000_0008, width: 4) == 0x2000_0008)
        f.configWrite(0x14, width: 4, value: 0xD000)
        f.configWrite(0x18, width: 4, value: 0xF100_0000)
        #expect(ports.read(0xC044, width: 4) == 0xFFFF_FFFF)
        #expect(ports.read(0xD01F, width: 1) == 0x1F)
        #expect(memory.read(0xF000_0008, width: 4) == 0xFFFF_FFFF)
        #expect(memory.read(0xF100_0008, width: 4) == 0x2000_0008)
        f.configWrite(0x04, width: 2, value: 0x0001) // memory decoding off, I/O stays
        #expect(memory.read(0xF100_0008, width: 4) == 0xFFFF_FFFF)
        #expect(ports.read(0xD000, width: 1) == 0x00)
        f.configWrite(0x04, width: 2, value: 0)
        #expect(ports.read(0xD000, width: 1) == 0xFF)
        f.configWrite(0x04, width: 2, value: 0x0003)
        f.configWrite(0x18, width: 4, value: 0x0010_0000) // inside RAM: never decoded over it
        #expect(memory.read(0x0010_0000, width: 4) == 0)
        f.config.resetHeader()
        #expect(ports.read(0xD000, width: 1) == 0xFF)
        #expect(f.configRead(0x14, width: 4) == 0x1)
        withExtendedLifetime((io, mmio)) {} // BARs hold their handlers weakly
    }

    /// While the guest reprograms, two BARs may overlap; moving one away leaves the other whole.
    @Test func movingAnOverlappingBARAwayKeepsTheOtherMapped() {
        let f = PCITestFunction(), g = PCITestFunction()
        let fHandler = TestBARHandler(tag: 0x1100_0000), gHandler = TestBARHandler(tag: 0x2200_0000)
        f.config.defineMemoryBAR(0, size: 0x2000, handler: fHandler)
        g.config.defineMemoryBAR(0, size: 0x1000, handler: gHandler)
        bus.attach(f, device: 3)
        bus.attach(g, device: 4)
        g.configWrite(0x10, width: 4, value: 0xF000_1000)
        g.configWrite(0x04, width: 2, value: 0x0002)
        f.configWrite(0x10, width: 4, value: 0xF000_0000)
        f.configWrite(0x04, width: 2, value: 0x0002) // f now covers g's page
        #expect(memory.read(0xF000_1004, width: 4) == 0x1100_1004)
        f.configWrite(0x10, width: 4, value: 0xF100_0000)
        #expect(memory.read(0xF000_1004, width: 4) == 0x2200_0004)
        #expect(memory.read(0xF000_0004, width: 4) == 0xFFFF_FFFF)
        withExtendedLifetime((fHandler, gHandler)) {}
    }

    @Test func romBARDecodesWhileEnabledWithMemory() {
        let f = PCITestFunction()
        f.config.defineROM(HostBuffer(count: 0x8000, bytes: [0x55, 0xAA]))
        bus.attach(f, device: 5)
        f.configWrite(0x30, width: 4, value: 0xFFFF_FFFE)
        #expect(f.configRead(0x30, width: 4) == 0xFFFF_8000)
        f.configWrite(0x30, width: 4, value: 0xFEB0_0001)
        #expect(memory.read(0xFEB0_0000, width: 2) == 0xFFFF) // memory decoding off
        f.configWrite(0x04, width: 2, value: 0x0002)
        #expect(memory.read(0xFEB0_0000, width: 2) == 0xAA55)
        memory.write(0xFEB0_0000, width: 1, value: 0)
        #expect(memory.read(0xFEB0_0000, width: 2) == 0xAA55) // read-only
        f.configWrite(0x30, width: 4, value: 0xFEB0_0000)
        #expect(memory.read(0xFEB0_0000, width: 2) == 0xFFFF)
    }

    @Test(arguments: [false, true]) func msiMessagesAndPerVectorMasking(is64Bit: Bool) {
        let f = PCITestFunction()
        let msi = f.config.addMSI(vectors: 4, is64Bit: is64Bit, perVectorMask: true)
        bus.attach(f, device: 3)
        let cap = walk(f)[0].offset
        let control = f.configRead(cap + 2, width: 2)
        #expect(control & 0x0E == 2 << 1) // 4 vectors capable
        #expect((control & 0x80 != 0) == is64Bit)
        #expect(control & 0x100 != 0)
        let data = cap + (is64Bit ? 0x0C : 0x08), mask = data + 4, pending = data + 8
        f.configWrite(cap + 4, width: 4, value: 0xFEE0_100F) // bits 1-0 read-only
        if is64Bit { f.configWrite(cap + 8, width: 4, value: 0) }
        f.configWrite(data, width: 2, value: 0x4140)
        msi.notify(vector: 0)
        #expect(msis.messages.isEmpty) // not enabled
        f.configWrite(cap + 2, width: 2, value: 0x0001 | 2 << 4) // enable, 4 vectors
        msi.notify(vector: 3)
        #expect(msis.messages == [MSIMessage(address: 0xFEE0_100C, data: 0x4143)])
        f.configWrite(mask, width: 4, value: 0xFFFF_FFF2) // mask vector 1 (only 4 bits exist)
        #expect(f.configRead(mask, width: 4) == 0x2)
        msi.notify(vector: 1)
        #expect(msis.messages.count == 1)
        #expect(f.configRead(pending, width: 4) == 0x2)
        f.configWrite(pending, width: 4, value: 0) // pending bits are read-only
        #expect(f.configRead(pending, width: 4) == 0x2)
        f.configWrite(mask, width: 4, value: 0)
        #expect(msis.messages.last == MSIMessage(address: 0xFEE0_100C, data: 0x4141))
        #expect(f.configRead(pending, width: 4) == 0)
        f.configWrite(cap + 2, width: 2, value: 0x0001) // one vector allocated: data passes through
        msi.notify(vector: 0)
        msi.notify(vector: 1) // not allocated: dropped
        #expect(msis.messages.count == 3 && msis.messages.last?.data == 0x4140)
    }

    @Test func msixTableMasksAndPendingBits() {
        let f = PCITestFunction()
        let msix = f.config.addMSIX(vectors: 3, bar: 2)
        bus.attach(f, device: 3)
        let cap = walk(f)[0].offset
        #expect(f.configRead(cap + 2, width: 2) == 2) // table size - 1
        #expect(f.configRead(cap + 4, width: 4) == 2) // table at 0 in BAR2
        #expect(f.configRead(cap + 8, width: 4) == 0x30 | 2) // PBA after 3 entries
        f.configWrite(0x18, width: 4, value: 0xFFFF_FFFF)
        #expect(f.configRead(0x18, width: 4) == 0xFFFF_F000) // one 4 KiB page
        f.configWrite(0x18, width: 4, value: 0xFE00_0000)
        f.configWrite(0x04, width: 2, value: 0x0002)
        let table: UInt32 = 0xFE00_0000, pba: UInt32 = 0xFE00_0030
        #expect(memory.read(table + 12, width: 4) == 1) // entries start masked
        for v: UInt32 in 0..<3 {
            memory.write(table + 16 * v, width: 4, value: 0xFEE0_0000 | v << 12)
            memory.write(table + 16 * v + 4, width: 4, value: 0)
            memory.write(table + 16 * v + 8, width: 4, value: 0x30 + v)
        }
        memory.write(table + 16 + 12, width: 4, value: 0) // unmask vector 1
        msix.notify(vector: 1)
        #expect(msis.messages.isEmpty) // MSI-X not enabled
        f.configWrite(cap + 2, width: 2, value: 0x8000)
        msix.notify(vector: 1)
        #expect(msis.messages == [MSIMessage(address: 0xFEE0_1000, data: 0x31)])
        msix.notify(vector: 0) // vector-masked: pending
        #expect(msis.messages.count == 1)
        #expect(memory.read(pba, width: 4) == 0x1)
        f.configWrite(cap + 2, width: 2, value: 0xC000) // function mask
        msix.notify(vector: 1)
        #expect(memory.read(pba, width: 4) == 0x3)
        #expect(msix.isPending(vector: 1))
        f.configWrite(cap + 2, width: 2, value: 0x8000) // function unmasked: vector 1 goes
        #expect(msis.messages.last == MSIMessage(address: 0xFEE0_1000, data: 0x31))
        #expect(memory.read(pba, width: 4) == 0x1)
        memory.write(table + 12, width: 4, value: 0xFFFF_FFFE) // only bit 0 is writable: unmasked
        #expect(memory.read(table + 12, width: 4) == 0)
        #expect(msis.messages.last == MSIMessage(address: 0xFEE0_0000, data: 0x30))
        #expect(memory.read(pba, width: 4) == 0)
        #expect(msis.messages.count == 3)
        f.config.resetHeader() // reset: disabled, entries masked again
        #expect(!msix.enabled && msix.isMasked(vector: 1))
    }

    @Test func msiWithoutASinkIsCountedAndDropped() {
        bus.msiSink = nil
        let f = PCITestFunction()
        let msi = f.config.addMSI()
        bus.attach(f, device: 3)
        f.configWrite(msi.offset + 2, width: 2, value: 1)
        msi.notify()
        #expect(bus.droppedMSIs == 1)
    }
}
