import Testing
@testable import Engine

/// PCI INTx through the PIIX3: slot/pin swizzle to PIRQA-D, the route registers 0x60-0x63
/// (bit 7 disables), the ELCR making the IRQ level-triggered in the 8259 pair, and wired-OR of
/// the sources sharing a line. Real router, PIIX3 and PIC; no CPU.
@Suite struct PCIInterruptRoutingTests {
    let memory: MemoryMap
    let ports = PortMap()
    let router = InterruptRouter()
    let pic = PIC8259Pair()
    let isa = PIIX3ISA()
    let bus: PCIBus

    init() throws {
        memory = try MemoryMap(ramSize: 1 << 20)
        bus = PCIBus(memory: memory, ports: ports, interrupts: router)
        isa.pic = pic
        router.addSink(isa)
        bus.attach(isa, device: 1)
        ports.register(pic, ports: 0x20...0x21)
        ports.register(pic, ports: 0xA0...0xA1)
        ports.register(pic, ports: 0x4D0...0x4D1)
        // SeaBIOS's pic_setup (vectors 0x08 and 0x70), then everything unmasked.
        for (port, value) in [(0x20, 0x11), (0xA0, 0x11), (0x21, 0x08), (0xA1, 0x70),
                              (0x21, 0x04), (0xA1, 0x02), (0x21, 0x01), (0xA1, 0x01),
                              (0x21, 0x00), (0xA1, 0x00)] as [(UInt16, UInt32)] {
            ports.write(port, width: 1, value: value)
        }
    }

    func attach(slot: Int, pin: UInt8) -> PCITestFunction {
        let function = PCITestFunction(interruptPin: pin)
        bus.attach(function, device: slot)
        return function
    }

    /// IRQs requested in the PIC, leaving out the cascade input IR2.
    func requested() -> [Int] { (0..<16).filter { $0 != 2 && pic.isRequested($0) } }

    /// Every IRQ 3-15 a route register can name is reached, the reserved ones (0-2, 8, 13) and
    /// bit 7 are not; with the ELCR making them level, the request follows the pin.
    @Test func pirqRouteReachesEachISAIRQ() {
        ports.write(0x4D0, width: 1, value: 0xF8)
        ports.write(0x4D1, width: 1, value: 0xDE)
        let device = attach(slot: 3, pin: 1) // PIRQC
        for irq in 0..<16 {
            isa.configWrite(0x62, width: 1, value: UInt32(irq))
            device.config.setINTx(true)
            let reserved = [0, 1, 2, 8, 13].contains(irq)
            #expect(requested() == (reserved ? [] : [irq]), "route \(irq)")
            device.config.setINTx(false)
            #expect(requested() == [], "route \(irq) after deassert")
        }
        isa.configWrite(0x62, width: 1, value: 0x8B) // disabled, IRQ 11 in the low bits
        device.config.setINTx(true)
        #expect(requested() == [])
        isa.configWrite(0x62, width: 1, value: 0x0B) // enabling the route carries the level over
        #expect(requested() == [11])
    }

    /// QEMU's and SeaBIOS's swizzle: PIRQ = (slot - 1 + pin - 1) mod 4.
    @Test func slotAndPinSelectThePIRQ() {
        ports.write(0x4D0, width: 1, value: 0xF8)
        ports.write(0x4D1, width: 1, value: 0xDE)
        isa.configWrite(0x60, width: 4, value: 0x0B_0A_09_05) // A→5, B→9, C→10, D→11
        let cases: [(slot: Int, pin: UInt8, irq: Int)] = [
            (1, 1, 5), (2, 1, 9), (3, 1, 10), (4, 1, 11), (5, 1, 5), (4, 2, 5), (3, 4, 9), (2, 3, 11),
        ]
        for c in cases {
            let device = attach(slot: c.slot, pin: c.pin)
            device.config.setINTx(true)
            #expect(requested() == [c.irq], "slot \(c.slot) pin \(c.pin)")
            device.config.setINTx(false)
        }
    }

    /// A level-triggered IRQ is requested again after EOI while the device holds it, and two
    /// devices on one PIRQ (and an ISA source on the same IRQ) are wired-OR.
    @Test func levelLineStaysPendingUntilLoweredAndSourcesAreWiredOR() {
        isa.configWrite(0x60, width: 4, value: 0x0B_0B_0A_0A) // as SeaBIOS
        ports.write(0x4D1, width: 1, value: 0x0C) // IRQ 10 and 11 level, as SeaBIOS
        #expect(ports.read(0x4D1, width: 1) == 0x0C)
        let a = attach(slot: 3, pin: 1) // PIRQC → 11
        let b = attach(slot: 2, pin: 2) // PIRQC → 11
        a.config.setINTx(true)
        #expect(pic.acknowledgeInterrupt() == 0x73)
        ports.write(0xA0, width: 1, value: 0x20)
        ports.write(0x20, width: 1, value: 0x20)
        #expect(pic.interruptPending) // still held: requested again
        #expect(pic.acknowledgeInterrupt() == 0x73)
        ports.write(0xA0, width: 1, value: 0x20)
        ports.write(0x20, width: 1, value: 0x20)
        b.config.setINTx(true)
        a.config.setINTx(false)
        #expect(requested() == [11]) // b still holds the line
        let isaSource = router.line(11)
        isaSource.raise()
        b.config.setINTx(false)
        #expect(requested() == [11]) // the ISA source still holds IRQ 11
        isaSource.lower()
        #expect(requested() == [])
    }

    /// Without the ELCR bit the same line is edge-triggered: one request per rising edge.
    @Test func edgeTriggeredWithoutELCR() {
        isa.configWrite(0x62, width: 1, value: 0x0B)
        let device = attach(slot: 3, pin: 1)
        device.config.setINTx(true)
        #expect(pic.acknowledgeInterrupt() == 0x73)
        ports.write(0xA0, width: 1, value: 0x20)
        ports.write(0x20, width: 1, value: 0x20)
        #expect(!pic.interruptPending)
    }

    /// Command bit 10 masks INTx at the pin; status bit 3 still shows the device's request.
    @Test func interruptDisableBitMasksThePin() {
        ports.write(0x4D1, width: 1, value: 0x08)
        isa.configWrite(0x62, width: 1, value: 0x0B)
        let device = attach(slot: 3, pin: 1)
        device.configWrite(0x04, width: 2, value: 0x0400)
        device.config.setINTx(true)
        #expect(device.configRead(0x06, width: 2) & 0x0008 != 0)
        #expect(requested() == [])
        device.configWrite(0x04, width: 2, value: 0)
        #expect(requested() == [11])
    }

    /// The ACPI SCI goes to the ISA IRQ in PIIX4 PM's interrupt line register (SeaBIOS: 9).
    @Test func sciFollowsTheInterruptLineRegister() {
        let pm = PIIX4PM(ports: ports, clock: ManualClock())
        pm.interrupts = router
        bus.attach(pm, device: 1, function: 3)
        ports.write(0x4D1, width: 1, value: 0x0A) // IRQ 9 and 11 level
        pm.configWrite(0x40, width: 4, value: 0x601)
        pm.configWrite(0x80, width: 1, value: 1)
        pm.configWrite(0x3C, width: 1, value: 9)
        ports.write(0x602, width: 2, value: 0x0100) // power button enabled, SCI_EN from reset
        pm.pressPowerButton()
        #expect(requested() == [9])
        pm.configWrite(0x3C, width: 1, value: 11)
        #expect(requested() == [11])
        ports.write(0x600, width: 2, value: 0x0100)
        #expect(requested() == [])
    }
}
