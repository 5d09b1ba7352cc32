import Testing
@testable import Engine

@Suite struct PIC8259PairTests {
    let pic = PIC8259Pair()
    let ports = PortMap()

    init() {
        ports.register(pic, ports: 0x20...0x21)
        ports.register(pic, ports: 0xA0...0xA1)
        ports.register(pic, ports: 0x4D0...0x4D1)
        // SeaBIOS's pic_setup.
        for (port, value) in [(0x20, 0x11), (0xA0, 0x11), (0x21, 0x08), (0xA1, 0x70),
                              (0x21, 0x04), (0xA1, 0x02), (0x21, 0x01), (0xA1, 0x01),
                              (0x21, 0xFB), (0xA1, 0xFF)] as [(UInt16, UInt32)] {
            ports.write(port, width: 1, value: value)
        }
    }

    /// INTR is pushed: the listener hears every change of the master's output, and only changes.
    @Test func intrChangesArePushedToTheCPUSide() {
        var levels: [Bool] = []
        pic.onOutputChange = { levels.append($0) }
        ports.write(0x21, width: 1, value: 0xFA) // unmask IRQ 0
        #expect(levels.isEmpty)
        pic.setIRQ(0, level: true)
        pic.setIRQ(0, level: false)
        #expect(levels == [true], "IRQ0 unmasked: INTR rises and stays up until acknowledged")
        _ = pic.acknowledgeInterrupt()
        #expect(levels == [true, false])
        ports.write(0x20, width: 1, value: 0x20) // EOI
        pic.setIRQ(9, level: true) // slave IRQ 9 masked: nothing moves
        #expect(levels == [true, false])
        ports.write(0xA1, width: 1, value: 0xFD) // unmask IRQ 9: INTR rises through the cascade
        #expect(levels == [true, false, true])
        ports.write(0x21, width: 1, value: 0xFF) // mask everything on the master: INTR drops
        #expect(levels == [true, false, true, false])
    }

    @Test func masksReadBack() {
        #expect(ports.read(0x21, width: 1) == 0xFB)
        #expect(ports.read(0xA1, width: 1) == 0xFF)
    }

    @Test func edgeOnMaskedLineIsHeldUntilUnmasked() {
        pic.setIRQ(0, level: true)
        pic.setIRQ(0, level: false)
        #expect(!pic.interruptPending)
        ports.write(0x21, width: 1, value: 0xFA)
        #expect(pic.interruptPending)
        #expect(pic.acknowledgeInterrupt() == 0x08)
        #expect(!pic.interruptPending)
        // In service: ISR through OCW3 0x0B.
        ports.write(0x20, width: 1, value: 0x0B)
        #expect(ports.read(0x20, width: 1) == 0x01)
        ports.write(0x20, width: 1, value: 0x20) // EOI
        #expect(ports.read(0x20, width: 1) == 0x00)
    }

    @Test func slaveInterruptsCascadeThroughIR2() {
        ports.write(0xA1, width: 1, value: 0xFE) // unmask IRQ8
        pic.setIRQ(8, level: true)
        #expect(pic.interruptPending)
        #expect(pic.acknowledgeInterrupt() == 0x70)
        pic.setIRQ(8, level: false)
        pic.setIRQ(14, level: true)
        ports.write(0xA1, width: 1, value: 0xBE)
        #expect(!pic.interruptPending) // IRQ8 still in service on the slave
        ports.write(0xA0, width: 1, value: 0x20)
        ports.write(0x20, width: 1, value: 0x20)
        #expect(pic.interruptPending)
        #expect(pic.acknowledgeInterrupt() == 0x76)
    }

    @Test func priorityAndLevelTriggeringThroughELCR() {
        ports.write(0x21, width: 1, value: 0x00)
        pic.setIRQ(5, level: true)
        pic.setIRQ(3, level: true)
        #expect(pic.acknowledgeInterrupt() == 0x0B) // IRQ3 outranks IRQ5
        ports.write(0x20, width: 1, value: 0x20)
        #expect(pic.acknowledgeInterrupt() == 0x0D)
        ports.write(0x20, width: 1, value: 0x20)
        ports.write(0x4D0, width: 1, value: 0x20) // IRQ5 level-triggered
        #expect(ports.read(0x4D0, width: 1) == 0x20)
        pic.setIRQ(5, level: false)
        pic.setIRQ(5, level: true)
        #expect(pic.acknowledgeInterrupt() == 0x0D)
        ports.write(0x20, width: 1, value: 0x20)
        #expect(pic.interruptPending) // still asserted: requested again
        pic.setIRQ(5, level: false)
        #expect(!pic.interruptPending)
    }

    @Test func spuriousWhenRequestVanishes() {
        #expect(pic.acknowledgeInterrupt() == 0x0F)
    }
}
