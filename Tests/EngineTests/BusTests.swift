import Testing
@testable import Engine

final class RecordingPorts: PortDevice {
    var writes: [(UInt16, Int, UInt32)] = []
    func portRead(_ port: UInt16, width: Int) -> UInt32 { UInt32(port) }
    func portWrite(_ port: UInt16, width: Int, value: UInt32) { writes.append((port, width, value)) }
}

final class ConstantMMIO: MMIODevice {
    var lastWrite: (UInt32, Int, UInt32)?
    func mmioRead(_ address: UInt32, width: Int) -> UInt32 { 0xA5A5_A5A5 }
    func mmioWrite(_ address: UInt32, width: Int, value: UInt32) { lastWrite = (address, width, value) }
}

@Test func unassignedPortsReadAllOnes() {
    let ports = PortMap()
    #expect(ports.read(0x3F8, width: 1) == 0xFF)
    #expect(ports.read(0x3F8, width: 2) == 0xFFFF)
    #expect(ports.read(0x3F8, width: 4) == 0xFFFF_FFFF)
}

@Test func registeredPortsReachTheirDevice() {
    let ports = PortMap()
    let device = RecordingPorts()
    ports.register(device, ports: 0x70...0x71)
    #expect(ports.read(0x71, width: 1) == 0x71)
    ports.write(0x70, width: 1, value: 0x18F)
    #expect(device.writes.count == 1)
    #expect(device.writes[0].2 == 0x8F)  // masked to the access width
}

@Test func ramReadsBackAndUnassignedReadsAllOnes() throws {
    let memory = try MemoryMap(ramSize: 1 << 20)
    memory.write(0x1234, width: 4, value: 0xDEAD_BEEF)
    #expect(memory.read(0x1234, width: 4) == 0xDEAD_BEEF)
    #expect(memory.read(0x1235, width: 2) == 0xADBE)
    #expect(memory.read(0x20_0000, width: 4) == 0xFFFF_FFFF)
}

@Test func accessCrossingIntoMMIOSplitsPerPage() throws {
    let memory = try MemoryMap(ramSize: 1 << 20)
    let device = ConstantMMIO()
    memory.mapMMIO(from: 0x2000, size: 0x1000, device: device)
    memory.write(0x1FFE, width: 2, value: 0x1122)
    #expect(memory.read(0x1FFE, width: 4) == 0xA5A5_1122)
    memory.write(0x2004, width: 4, value: 7)
    #expect(device.lastWrite?.0 == 0x2004)
}

@Test func romPagesDropWrites() throws {
    let memory = try MemoryMap(ramSize: 1 << 20)
    let rom = UnsafeMutableRawPointer.allocate(byteCount: 4096, alignment: 4096)
    defer { rom.deallocate() }
    rom.initializeMemory(as: UInt8.self, repeating: 0x5A, count: 4096)
    memory.setPages(from: 0xF0000, size: 4096, readFrom: rom, writeTo: nil)
    memory.write(0xF0010, width: 1, value: 0)
    #expect(memory.read(0xF0010, width: 1) == 0x5A)
}

@Test func dmaCopiesWholeRangesAndRefusesRangesOutsideRAM() throws {
    let memory = try MemoryMap(ramSize: 1 << 20)
    let pattern: [UInt8] = (0..<6000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
    // Across a page boundary, in one call.
    try pattern.withUnsafeBytes { try memory.dmaWrite(0x1F00, from: $0) }
    var back = [UInt8](repeating: 0, count: pattern.count)
    try back.withUnsafeMutableBytes { try memory.dmaRead(0x1F00, into: $0) }
    #expect(back == pattern)
    try memory.dmaWrite(0x8000, value: UInt32(0xCAFE_F00D))
    #expect(try memory.dmaRead(0x8000, as: UInt32.self) == 0xCAFE_F00D)

    // Leaving RAM at the end, above 4 GiB, wrapping, or onto an MMIO page: an error, nothing written.
    memory.mapMMIO(from: 0x9_0000, size: 4096, device: ConstantMMIO())
    let before = memory.read(0xF_FFFC, width: 4)
    for (address, length) in [(UInt64(0xF_FFFC), 8), (0x1_0000_0000, 4), (0xFFFF_FFFF_FFFF_FFFC, 8), (0x8_FFFE, 4)] {
        #expect(throws: DMAError.self) {
            try [UInt8](repeating: 0x55, count: length).withUnsafeBytes { try memory.dmaWrite(address, from: $0) }
        }
    }
    #expect(memory.read(0xF_FFFC, width: 4) == before)
    #expect(memory.read(0x0, width: 4) == 0)  // nothing aliased into low RAM
    // A read-only (ROM) page can be read by DMA but not written.
    memory.setPages(from: 0xA_0000, size: 4096, readFrom: memory.ram + 0xA_0000, writeTo: nil)
    #expect(memory.dmaCheck(0xA_0000, length: 16, write: false))
    #expect(!memory.dmaCheck(0xA_0000, length: 16, write: true))
}

@Test func hostRegionsFollowRAMROMAndMMIOMappings() throws {
    final class Recorder: MemoryRegionListener {
        var calls: [[GuestMemoryRegion]] = []
        func memoryRegionsChanged(_ regions: [GuestMemoryRegion]) { calls.append(regions) }
    }
    let memory = try MemoryMap(ramSize: 1 << 20)
    let recorder = Recorder()
    memory.addRegionListener(recorder)
    #expect(recorder.calls.last == [GuestMemoryRegion(guestPhysical: 0, size: 1 << 20, host: memory.ram, readOnly: false)])
    // A VGA-like MMIO hole and a ROM-like read-only window split the RAM.
    memory.mapMMIO(from: 0xA_0000, size: 0x2_0000, device: ConstantMMIO())
    memory.setPages(from: 0xF_0000, size: 0x1_0000, readFrom: memory.ram + 0xF_0000, writeTo: nil)
    #expect(recorder.calls.count == 1) // told when published, once for both changes
    memory.publishRegionChanges()
    let regions = try #require(recorder.calls.last)
    #expect(regions.map(\.guestPhysical) == [0, 0xC_0000, 0xF_0000])
    #expect(regions.map(\.size) == [0xA_0000, 0x3_0000, 0x1_0000])
    #expect(regions.map(\.readOnly) == [false, false, true])
    #expect(recorder.calls.count == 2)
    memory.publishRegionChanges()
    #expect(recorder.calls.count == 2)
}
