import Testing
@testable import Engine

/// The i440FX host bridge, PIIX3/PIIX4 functions, through 0xCF8/0xCFC as SeaBIOS uses them.
@Suite struct PCITests {
    let memory: MemoryMap
    let ports = PortMap()
    let bios: HostBuffer
    let host: I440FX
    let isa = PIIX3ISA()
    let clock = ManualClock()
    let pm: PIIX4PM

    init() throws {
        memory = try MemoryMap(ramSize: 16 << 20)
        // A 256 KiB image whose every byte says which 64 KiB block it is in.
        bios = HostBuffer(count: 0x40000, bytes: (0..<0x40000).map { UInt8($0 >> 16) + 0xA0 })
        host = I440FX(bus: PCIBus(memory: memory, ports: ports, interrupts: InterruptRouter()),
                      memory: memory, bios: bios, biosSize: 0x40000)
        pm = PIIX4PM(ports: ports, clock: clock)
        host.attach(isa, device: 1)
        host.attach(pm, device: 1, function: 3)
        ports.register(host, ports: 0xCF8...0xCF8)
        ports.register(isa, ports: 0xCF9...0xCF9)
        ports.register(host, ports: 0xCFC...0xCFF)
    }

    func cfgRead(_ dev: Int, _ fn: Int, _ reg: Int, _ width: Int) -> UInt32 {
        ports.write(0xCF8, width: 4, value: 0x8000_0000 | UInt32(dev << 11 | fn << 8 | (reg & 0xFC)))
        return ports.read(0xCFC + UInt16(reg & 3), width: width)
    }

    func cfgWrite(_ dev: Int, _ fn: Int, _ reg: Int, _ width: Int, _ value: UInt32) {
        ports.write(0xCF8, width: 4, value: 0x8000_0000 | UInt32(dev << 11 | fn << 8 | (reg & 0xFC)))
        ports.write(0xCFC + UInt16(reg & 3), width: width, value: value)
    }

    @Test func hostProbeAndIdentity() {
        ports.write(0xCF8, width: 4, value: 0x8000_0000)
        #expect(ports.read(0xCF8, width: 4) == 0x8000_0000)
        #expect(cfgRead(0, 0, 0, 4) == 0x1237_8086)
        #expect(cfgRead(0, 0, 0x2C, 2) == 0x1AF4)
        #expect(cfgRead(0, 0, 0x2E, 2) == 0x1100)
        #expect(cfgRead(1, 0, 0x0E, 1) == 0x80) // multi-function PIIX3
        #expect(cfgRead(1, 3, 0, 4) == 0x7113_8086)
        #expect(cfgRead(3, 0, 0, 2) == 0xFFFF) // empty slot
        #expect(cfgRead(1, 2, 0, 4) == 0xFFFF_FFFF) // absent function
    }

    @Test func biosIsMappedAtTopOf4GAndItsLast128KAlias() {
        #expect(memory.read(0xFFFC_0000, width: 1) == 0xA0)
        #expect(memory.read(0xFFFF_FFFF, width: 1) == 0xA3)
        #expect(memory.read(0xE0000, width: 1) == 0xA2) // image offset 0x20000
        #expect(memory.read(0xFFFFF, width: 1) == 0xA3)
        #expect(memory.read(0xD0000, width: 1) == 0) // below the alias: zero ROM
        memory.write(0xF0000, width: 1, value: 0x11)
        #expect(memory.read(0xF0000, width: 1) == 0xA3) // ROM: write dropped
    }

    @Test func pamSwitchesSegmentsBetweenROMAndShadowRAM() {
        cfgWrite(0, 0, 0x58, 4, 0x3333_3000)
        cfgWrite(0, 0, 0x5C, 4, 0x3333_3333)
        #expect(cfgRead(0, 0, 0x59, 1) == 0x30)
        memory.write(0xF0000, width: 1, value: 0x5A)
        memory.write(0xC4000, width: 1, value: 0x5B)
        #expect(memory.read(0xF0000, width: 1) == 0x5A)
        #expect(memory.read(0xC4000, width: 1) == 0x5B)
        // Lock as SeaBIOS does: F segment read-only RAM, E8000-EFFFF stays read/write.
        cfgWrite(0, 0, 0x58, 4, 0x1111_1000)
        cfgWrite(0, 0, 0x5C, 4, 0x3311_1111)
        memory.write(0xF0000, width: 1, value: 0x77)
        #expect(memory.read(0xF0000, width: 1) == 0x5A)
        memory.write(0xE8000, width: 1, value: 0x66)
        #expect(memory.read(0xE8000, width: 1) == 0x66)
        cfgWrite(0, 0, 0x59, 1, 0)
        #expect(memory.read(0xF0000, width: 1) == 0xA3) // back to the ROM alias
        host.reset()
        #expect(host.pam(0x5F) == 0)
    }

    @Test func pmTimerRunsAt3_579545MHzAtTheProgrammedBase() {
        #expect(cfgRead(1, 3, 0x5B, 1) == 0x02) // SMM "already set up"
        cfgWrite(1, 3, 0x40, 4, 0xB001)
        cfgWrite(1, 3, 0x80, 1, 0x01)
        #expect(pm.pmBase == 0xB000)
        let t0 = ports.read(0xB008, width: 4)
        clock.advance(by: 1_000_000) // 1 ms
        let t1 = ports.read(0xB008, width: 4)
        #expect(t1 &- t0 == 3579 || t1 &- t0 == 3580)
        #expect(ports.read(0xB008, width: 4) <= 0xFF_FFFF)
        cfgWrite(1, 3, 0x80, 1, 0x00)
        #expect(ports.read(0xB008, width: 4) == 0xFFFF_FFFF)
    }

    @Test func acpiSoftOffPowersOff() {
        var off = false
        pm.onPowerOff = { off = true }
        cfgWrite(1, 3, 0x40, 4, 0x0601)
        cfgWrite(1, 3, 0x80, 1, 0x01)
        ports.write(0x604, width: 2, value: 0x0001 | 5 << 10) // SLP_TYP 5, no SLP_EN
        #expect(!off)
        ports.write(0x604, width: 2, value: 0x2000) // SLP_EN, type 0 (S5)
        #expect(off)
    }

    @Test func resetControlAndPIRQ() {
        var resets = 0
        isa.onReset = { resets += 1 }
        #expect(isa.pirqRoute(0) == nil)
        cfgWrite(1, 0, 0x60, 1, 0x0A)
        #expect(isa.pirqRoute(0) == 10)
        ports.write(0xCF9, width: 1, value: 0x02)
        #expect(resets == 0)
        ports.write(0xCF9, width: 1, value: 0x06)
        #expect(resets == 1)
    }
}

extension PCITests {
    /// A reset brings the PIIX3's device registers back to their power-on values, as QEMU shows
    /// them (0x4C I/O recovery 0x4D, 0x69 top of memory 0x02, 0x70 motherboard IRQ off, ...).
    @Test func piix3RegistersReturnToPowerOnValues() {
        cfgWrite(1, 0, 0x60, 4, 0x0B0B_0A0A)
        cfgWrite(1, 0, 0x4C, 4, 0)
        cfgWrite(1, 0, 0xB0, 4, 0xFFFF_FFFF)
        isa.reset()
        #expect(cfgRead(1, 0, 0x4C, 4) == 0x0003_004D)
        #expect(cfgRead(1, 0, 0x60, 4) == 0x8080_8080)
        #expect(cfgRead(1, 0, 0x68, 4) == 0x0000_0200)
        #expect(cfgRead(1, 0, 0x74, 4) == 0x0C0C_0000)
        #expect(cfgRead(1, 0, 0xA8, 4) == 0x0000_000F)
        #expect(cfgRead(1, 0, 0xB0, 4) == 0)
    }
}

extension PCITests {
    /// As QEMU's PIIX4 without SMM: ACPI mode (SCI_EN) is on from power-on, so an OS does not
    /// wait for an SMI_CMD handshake; the GPE0 block SeaBIOS's FADT names reads as no events.
    @Test func acpiModeIsOnFromPowerOnAndGPE0IsQuiet() {
        cfgWrite(1, 3, 0x40, 4, 0xB001)
        cfgWrite(1, 3, 0x80, 1, 0x01)
        #expect(ports.read(0xB004, width: 2) & 0x0001 == 0x0001)
        let gpe = ACPIGPEBlock()
        ports.register(gpe, ports: ACPIGPEBlock.portRange)
        #expect(ports.read(0xAFE0, width: 4) == 0)
        ports.write(0xAFE2, width: 2, value: 0x0102)
        #expect(gpe.enable == 0x0102)
        ports.write(0xAFE0, width: 2, value: 0xFFFF) // clearing nothing set stays clear
        #expect(ports.read(0xAFE0, width: 4) == 0x0102_0000)
    }
}
