import Testing
@testable import Engine

/// The ACPI power button: PM1 status bit 8 latches, and the SCI (IRQ 9) is raised only when
/// the guest has ACPI mode on (SCI_EN) and the event enabled, until it clears the status.
@Suite struct PIIX4PMPowerButtonTests {
    let ports = PortMap()
    let irqs = IRQRecorder()
    let pm: PIIX4PM
    let base: UInt16 = 0x600

    init() {
        pm = PIIX4PM(ports: ports, clock: ManualClock())
        pm.interrupts = irqs.router
        pm.configWrite(0x3C, width: 1, value: 9) // as SeaBIOS: the SCI on IRQ 9
        pm.configWrite(0x40, width: 4, value: UInt32(base))
        pm.configWrite(0x80, width: 1, value: 1)
    }

    @Test func buttonWithoutACPIModeLatchesButRaisesNothing() {
        #expect(!pm.powerButtonEnabled)
        pm.pressPowerButton()
        #expect(ports.read(base, width: 2) & 0x0100 != 0)
        #expect(!irqs.levels[9])
    }

    @Test func enabledButtonRaisesSCIUntilCleared() {
        ports.write(base + 2, width: 2, value: 0x0100) // PM1 enable: power button
        ports.write(base + 4, width: 2, value: 0x0001) // PM1 control: SCI_EN
        #expect(pm.powerButtonEnabled)
        #expect(!irqs.levels[9])
        pm.pressPowerButton()
        #expect(irqs.levels[9])
        ports.write(base, width: 2, value: 0x0100) // write 1 to clear
        #expect(!irqs.levels[9])
        #expect(ports.read(base, width: 2) & 0x0100 == 0)
    }

    @Test func resetDropsTheSCI() {
        ports.write(base + 2, width: 2, value: 0x0100)
        ports.write(base + 4, width: 2, value: 0x0001)
        pm.pressPowerButton()
        pm.reset()
        #expect(!irqs.levels[9])
        #expect(!pm.powerButtonEnabled)
    }
}
