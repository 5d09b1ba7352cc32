import Testing
@testable import Engine

/// The floppy controller and DMA channel 2 driven as SeaBIOS does for its first INT 13h read
/// (PLATFORM-NOTES §4.6), with the byte values QEMU's FDC gives.
@Suite struct FDC82077AATests {
    let memory: MemoryMap
    let ports = PortMap()
    let irqs = IRQRecorder()
    let dma: DMA8237
    let fdc: FDC82077AA
    let disk = MemoryDisk(sectors: 2880)

    init() throws {
        memory = try MemoryMap(ramSize: 1 << 20)
        dma = DMA8237(memory: memory)
        fdc = FDC82077AA(dma: dma, irq6: irqs.line(6))
        ports.register(dma, ports: 0x00...0x0F)
        ports.register(dma, ports: 0x81...0x8F)
        ports.register(fdc, ports: 0x3F0...0x3F5)
        ports.register(fdc, ports: 0x3F7...0x3F7)
        fdc.insert(disk)
    }

    /// Sends a command (MSR must say "ready, host to controller" before each byte) and reads
    /// the result phase (MSR "ready, controller to host" before each byte).
    @discardableResult
    func command(_ bytes: [UInt8]) -> [UInt8] {
        for b in bytes {
            #expect(ports.read(0x3F4, width: 1) & 0xC0 == 0x80)
            ports.write(0x3F5, width: 1, value: UInt32(b))
        }
        var result: [UInt8] = []
        while ports.read(0x3F4, width: 1) & 0xC0 == 0xC0, result.count < 16 {
            result.append(UInt8(ports.read(0x3F5, width: 1)))
        }
        #expect(ports.read(0x3F4, width: 1) == 0x80) // DIO clear after the last byte
        return result
    }

    @Test func resetWantsFourSenseInterruptsOfTwoBytes() {
        ports.write(0x3F2, width: 1, value: 0x08)
        let edges = irqs.edges[6]
        ports.write(0x3F2, width: 1, value: 0x0C)
        #expect(irqs.edges[6] == edges + 1)
        for drive: UInt8 in 0..<4 { #expect(command([0x08]) == [0xC0 | drive, 0]) }
        #expect(command([0x08]) == [0x80]) // nothing more pending: invalid
    }

    @Test func recalibrateSeekAndReadDataThroughDMAChannel2() {
        var sector = [UInt8](repeating: 0, count: 512)
        for i in 0..<512 { sector[i] = UInt8(truncatingIfNeeded: i * 3) }
        sector[510] = 0x55; sector[511] = 0xAA
        disk.fill(0, with: sector)
        let lba = UInt64((1 * 2 + 1) * 18 + 4) // C1 H1 S5
        disk.fill(lba, with: [UInt8](repeating: 0xE5, count: 512))
        ports.write(0x3F2, width: 1, value: 0x08) // reset, as SeaBIOS begins
        ports.write(0x3F2, width: 1, value: 0x0C)
        for _ in 0..<4 { command([0x08]) }
        ports.write(0x3F2, width: 1, value: 0x1C) // motor A, enabled, drive 0
        command([0x07, 0x00]) // RECALIBRATE
        #expect(command([0x08]) == [0x20, 0]) // seek end, cylinder 0
        command([0x03, 0xAF, 0x02]) // SPECIFY: no result, no interrupt

        // DMA channel 2: mask, address 0x7C00, count 511, single/increment/write-to-memory, page 0.
        ports.write(0x0A, width: 1, value: 0x06)
        ports.write(0x0C, width: 1, value: 0)
        ports.write(0x04, width: 1, value: 0x00); ports.write(0x04, width: 1, value: 0x7C)
        ports.write(0x0C, width: 1, value: 0)
        ports.write(0x05, width: 1, value: 0xFF); ports.write(0x05, width: 1, value: 0x01)
        ports.write(0x0B, width: 1, value: 0x46)
        ports.write(0x81, width: 1, value: 0x00)
        ports.write(0x0A, width: 1, value: 0x02)
        let edges = irqs.edges[6]
        let result = command([0xE6, 0x00, 0x00, 0x00, 0x01, 0x02, 0x01, 0x1B, 0xFF])
        #expect(irqs.edges[6] == edges + 1)
        #expect(result == [0x04, 0x00, 0x00, 0x00, 0x01, 0x01, 0x02]) // as QEMU: MT moves to head 1
        #expect((0..<512).map { UInt8(memory.read(0x7C00 + UInt32($0), width: 1)) } == sector)

        command([0x0F, 0x04, 0x01]) // SEEK head 1, cylinder 1
        #expect(command([0x08]) == [0x24, 1]) // seek end, head 1, cylinder 1
        ports.write(0x0C, width: 1, value: 0)
        ports.write(0x04, width: 1, value: 0x00); ports.write(0x04, width: 1, value: 0x80)
        ports.write(0x0C, width: 1, value: 0)
        ports.write(0x05, width: 1, value: 0xFF); ports.write(0x05, width: 1, value: 0x01)
        ports.write(0x0A, width: 1, value: 0x02)
        let second = command([0xE6, 0x04, 0x01, 0x01, 0x05, 0x02, 0x12, 0x1B, 0xFF])
        #expect(second.first.map { $0 & 0xC0 } == 0) // normal termination
        #expect(memory.read(0x8000, width: 4) == 0xE5E5_E5E5)
    }
}
