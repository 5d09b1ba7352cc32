import Testing
@testable import Engine

/// QEMU's pc-testdev as kvm-unit-tests use it: the scratch register by byte lanes, the IRQ
/// ports, and the MMIO window that keeps what is written (through the memory map's slow path).
@Suite struct PCTestDevTests {
    @Test func scratchRegisterKeepsEachByteLane() {
        let device = PCTestDev(interrupts: IRQRecorder())
        device.portWrite(0xE0, width: 4, value: 0x1122_3344)
        device.portWrite(0xE2, width: 1, value: 0xAB)
        #expect(device.portRead(0xE0, width: 4) == 0x11AB_3344)
        #expect(device.portRead(0xE1, width: 2) == 0xAB33)
        #expect(device.portRead(0xE8, width: 1) == 0x44) // the byte-wise alias
        device.portWrite(0xE0, width: 2, value: 0x9999)
        #expect(device.portRead(0xE0, width: 4) == 0x11AB_9999)
    }

    @Test func irqPortsSetLineLevels() {
        let pic = IRQRecorder()
        let device = PCTestDev(interrupts: pic)
        device.portWrite(0x2005, width: 1, value: 1)
        #expect(pic.levels[5])
        device.portWrite(0x2005, width: 1, value: 0)
        #expect(!pic.levels[5] && pic.edges[5] == 1)
        device.portWrite(0x2017, width: 1, value: 1) // IRQ 23: no IOAPIC, ignored
        #expect(!pic.levels.contains(true))
    }

    @Test func mmioWindowKeepsWhatIsWritten() throws {
        let memory = try MemoryMap(ramSize: 1 << 20)
        let device = PCTestDev(interrupts: IRQRecorder())
        memory.mapMMIO(from: PCTestDev.ioMemoryBase, size: PCTestDev.ioMemorySize, device: device)
        memory.write(0xFF00_1FFE, width: 4, value: 0xCAFE_F00D)
        #expect(memory.read(0xFF00_1FFE, width: 4) == 0xCAFE_F00D)
        #expect(memory.read(0xFF00_2000, width: 1) == 0xFE)
        #expect(memory.read(0xFF01_0000, width: 4) == 0xFFFF_FFFF) // past the window: unassigned
    }
}
