import Testing
@testable import Engine

@Suite struct PIT8254Tests {
    let clock = ManualClock()
    let irqs = IRQRecorder()
    let pit: PIT8254
    let scheduler: Scheduler
    let ports = PortMap()

    init() {
        pit = PIT8254(clock: clock, irq0: irqs.line(0))
        scheduler = Scheduler(clock: clock)
        scheduler.add(pit)
        ports.register(pit, ports: 0x40...0x43)
        ports.register(pit, ports: 0x61...0x61)
    }

    @Test func channel0Mode2RaisesIRQ0At18Hz() {
        ports.write(0x43, width: 1, value: 0x34)
        ports.write(0x40, width: 1, value: 0x00)
        ports.write(0x40, width: 1, value: 0x00)
        for _ in 0..<1000 {
            clock.advance(by: 1_000_000)
            scheduler.fireDue()
        }
        #expect(irqs.edges[0] == 18) // 1 s at 18.2065 Hz
    }

    @Test func shortReloadFiresAtItsPeriod() {
        ports.write(0x43, width: 1, value: 0x34)
        ports.write(0x40, width: 1, value: 0x9C) // 11932 ticks: 100 Hz
        ports.write(0x40, width: 1, value: 0x2E)
        clock.advance(by: 9_990_000)
        scheduler.fireDue()
        #expect(irqs.edges[0] == 0)
        clock.advance(by: 20_000) // 11932 ticks are 10.0001 ms
        scheduler.fireDue()
        #expect(irqs.edges[0] == 1)
        clock.advance(by: 10_000_000)
        scheduler.fireDue()
        #expect(irqs.edges[0] == 2)
    }

    @Test func latchedCountDecreases() {
        ports.write(0x43, width: 1, value: 0x34)
        ports.write(0x40, width: 1, value: 0x00)
        ports.write(0x40, width: 1, value: 0x00)
        clock.advance(by: 1_000_000) // 1193 ticks
        ports.write(0x43, width: 1, value: 0x00)
        let count = ports.read(0x40, width: 1) | ports.read(0x40, width: 1) << 8
        #expect(count == 65536 - 1193)
        ports.write(0x43, width: 1, value: 0xD2) // read-back, count of ch0
        let again = ports.read(0x40, width: 1) | ports.read(0x40, width: 1) << 8
        #expect(again == count)
    }

    @Test func channel2Out2AppearsOnPort61ForTSCCalibration() {
        ports.write(0x61, width: 1, value: 0x01) // gate 2 on, speaker off
        ports.write(0x43, width: 1, value: 0xB0) // ch2 mode 0
        ports.write(0x42, width: 1, value: 0x00)
        ports.write(0x42, width: 1, value: 0x08) // 2048 ticks = 1.716 ms
        #expect(ports.read(0x61, width: 1) & 0x20 == 0)
        clock.advance(by: 1_700_000)
        #expect(ports.read(0x61, width: 1) & 0x20 == 0)
        clock.advance(by: 30_000)
        #expect(ports.read(0x61, width: 1) & 0x20 != 0)
        #expect(ports.read(0x61, width: 1) & 0x01 == 0x01)
    }
}
