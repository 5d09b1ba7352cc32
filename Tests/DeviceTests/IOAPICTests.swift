import Testing
@testable import Engine

/// The IOAPIC through its IOREGSEL/IOWIN window, fed as the PIIX3 feeds it, delivering to two
/// local APICs: redirection, IRQ0 on pin 2, masking, level-triggered lines with remote IRR
/// and EOI, and a steered PCI PIRQ.
@Suite struct IOAPICTests {
    let clock = ManualClock()
    let bus = APICBus()
    let ioapic: IOAPIC
    let apics: [LocalAPIC]

    init() {
        let bus = bus, clock = clock
        ioapic = IOAPIC(bus: bus)
        apics = (0..<2).map { LocalAPIC(id: UInt8($0), bootstrap: $0 == 0, clock: clock, bus: bus, pic: nil) }
        for apic in apics { apic.write(offset: 0xF0, width: 4, value: 0x1FF) }
    }

    func register(_ index: UInt32) -> UInt32 {
        ioapic.mmioWrite(IOAPIC.base, width: 4, value: index)
        return ioapic.mmioRead(IOAPIC.base + 0x10, width: 4)
    }

    func setRegister(_ index: UInt32, _ value: UInt32) {
        ioapic.mmioWrite(IOAPIC.base, width: 4, value: index)
        ioapic.mmioWrite(IOAPIC.base + 0x10, width: 4, value: value)
    }

    func program(pin: UInt32, low: UInt32, destination: UInt8 = 0) {
        setRegister(0x11 + 2 * pin, UInt32(destination) << 24)
        setRegister(0x10 + 2 * pin, low)
    }

    func take(_ apic: LocalAPIC) -> UInt8? {
        guard apic.interruptPending else { return nil }
        let vector = apic.acknowledgeInterrupt()
        apic.write(offset: 0xB0, width: 4, value: 0)
        return vector
    }

    @Test func versionAndResetState() {
        #expect(register(1) == 0x0017_0011) // 24 entries, version 0x11
        #expect(register(0x10) == 0x1_0000) // masked
        setRegister(0, 0x0200_0000)
        #expect(register(0) == 0x0200_0000)
    }

    @Test func irq0ArrivesOnPin2() {
        program(pin: 2, low: 0x30)
        ioapic.setIRQ(0, level: true)
        ioapic.setIRQ(0, level: false)
        #expect(take(apics[0]) == 0x30)
        program(pin: 0, low: 0x31)
        ioapic.setIRQ(0, level: true)
        #expect(!apics[0].isRequested(0x31))
    }

    @Test func edgeLinesSendOnRisingEdgesWhileUnmasked() {
        program(pin: 4, low: 0x34, destination: 1)
        ioapic.setIRQ(4, level: true)
        #expect(take(apics[1]) == 0x34 && !apics[0].interruptPending)
        ioapic.setIRQ(4, level: true) // no new edge
        #expect(take(apics[1]) == nil)
        ioapic.setIRQ(4, level: false)
        program(pin: 4, low: 0x1_0034, destination: 1) // masked
        ioapic.setIRQ(4, level: true)
        #expect(take(apics[1]) == nil)
    }

    @Test func levelLinesHoldRemoteIRRUntilEOI() {
        program(pin: 10, low: 0x8040) // level, vector 0x40
        ioapic.setIRQ(10, level: true)
        #expect(register(0x10 + 20) & 0x4000 != 0) // remote IRR
        #expect(apics[0].acknowledgeInterrupt() == 0x40)
        ioapic.setIRQ(10, level: false)
        ioapic.setIRQ(10, level: true) // while remote IRR is set: nothing new
        #expect(!apics[0].isRequested(0x40))
        apics[0].write(offset: 0xB0, width: 4, value: 0) // EOI, line still high: sent again
        #expect(apics[0].isRequested(0x40))
        ioapic.setIRQ(10, level: false)
        #expect(take(apics[0]) == 0x40)
        #expect(register(0x10 + 20) & 0x4000 == 0)
        #expect(take(apics[0]) == nil)
    }

    @Test func unmaskingAnAssertedLevelLineSendsIt() {
        program(pin: 9, low: 0x1_8049)
        ioapic.setIRQ(9, level: true)
        #expect(!apics[0].interruptPending)
        program(pin: 9, low: 0x8049)
        #expect(take(apics[0]) == 0x49)
    }

    @Test func logicalDestinationAndLowestPriority() {
        apics[0].write(offset: 0xD0, width: 4, value: 0x0100_0000)
        apics[1].write(offset: 0xD0, width: 4, value: 0x0200_0000)
        apics[0].write(offset: 0x80, width: 4, value: 0x80)
        program(pin: 3, low: 0x0953, destination: 0x03) // lowest priority, logical, both
        ioapic.setIRQ(3, level: true)
        #expect(apics[1].isRequested(0x53) && !apics[0].isRequested(0x53))
    }

    @Test func aSteeredPIRQReachesTheIOAPICThroughThePIIX3() {
        let piix3 = PIIX3ISA()
        let router = InterruptRouter()
        router.addSink(piix3)
        piix3.ioapic = ioapic
        piix3.configWrite(0x60, width: 1, value: 11) // PIRQA -> IRQ 11
        program(pin: 11, low: 0x805B)
        let line = router.line(InterruptRouter.pirqBase)
        line.raise()
        #expect(apics[0].isRequested(0x5B))
        line.lower()
        #expect(take(apics[0]) == 0x5B && take(apics[0]) == nil)
    }

    /// Virtualize mirrors the unmasked entries into KVM's GSI routes (GSI = pin) and sends each
    /// entry as that same MSI: the messages, which pins appear, and when the table is rebuilt.
    @Test func unmaskedEntriesBecomeTheMSIRoutesTheyAreSentAs() {
        var changes = 0
        ioapic.onRoutesChange = { changes += 1 }
        #expect(ioapic.routes.isEmpty) // all masked after reset
        program(pin: 2, low: 0x0030, destination: 1) // edge, fixed, physical APIC 1
        program(pin: 9, low: 0x8949, destination: 0x03) // level, lowest priority, logical 3
        program(pin: 5, low: 0x1_0035) // masked: no route
        let routes = ioapic.routes
        #expect(routes.map(\.pin) == [2, 9])
        #expect(routes.first?.message == MSIMessage(address: 0xFEE0_1000, data: 0x0030))
        #expect(routes.last?.message == MSIMessage(address: 0xFEE0_3004, data: 0x8149))
        let writes = changes
        #expect(writes >= 2)
        ioapic.setIRQ(9, level: true) // remote IRR set: the route does not change
        #expect(changes == writes)
        program(pin: 9, low: 0x1_8949, destination: 0x03) // masked now
        #expect(changes > writes && ioapic.routes.map(\.pin) == [2])

        let sent = MSIRecorder()
        ioapic.sink = sent
        ioapic.setIRQ(0, level: true) // IRQ0 on pin 2
        #expect(sent.messages == [routes[0].message])
    }
}
