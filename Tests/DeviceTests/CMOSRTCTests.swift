import Testing
@testable import Engine

@Suite struct CMOSRTCTests {
    let clock = ManualClock()
    let irqs = IRQRecorder()
    let rtc: CMOSRTC
    let scheduler: Scheduler
    let ports = PortMap()
    /// 2026-11-23 09:58:59 UTC, a Monday.
    static let time: Int64 = 1_795_427_939

    init() {
        rtc = CMOSRTC(clock: clock, irq8: irqs.line(8), unixTime: CMOSRTCTests.time)
        scheduler = Scheduler(clock: clock)
        scheduler.add(rtc)
        ports.register(rtc, ports: 0x70...0x71)
    }

    func read(_ reg: UInt32) -> UInt32 {
        ports.write(0x70, width: 1, value: reg | 0x80) // SeaBIOS sets the NMI-off bit
        return ports.read(0x71, width: 1)
    }

    @Test func civilTimeRoundTrips() {
        let t = CivilTime(unixSeconds: CMOSRTCTests.time)
        #expect(t == CivilTime(year: 2026, month: 11, day: 23, hour: 9, minute: 58, second: 59))
        #expect(t.weekday == 1)
        #expect(t.unixSeconds == CMOSRTCTests.time)
        #expect(CivilTime(unixSeconds: 951_782_400) == CivilTime(year: 2000, month: 2, day: 29, hour: 0, minute: 0, second: 0))
    }

    @Test func bcdClockTicks() {
        #expect(read(0x0A) == 0x26)
        #expect(read(0x0B) == 0x02)
        #expect(read(0x0D) == 0x80)
        #expect(read(0x00) == 0x59)
        #expect(read(0x02) == 0x58)
        #expect(read(0x04) == 0x09)
        #expect(read(0x07) == 0x23)
        #expect(read(0x08) == 0x11)
        #expect(read(0x09) == 0x26)
        #expect(read(0x32) == 0x20)
        clock.advance(by: 1_000_000_000)
        #expect(read(0x00) == 0x00)
        #expect(read(0x02) == 0x59)
    }

    @Test func binaryModeAndGuestSetTime() {
        ports.write(0x70, width: 1, value: 0x0B)
        ports.write(0x71, width: 1, value: 0x86) // SET, binary, 24 h
        ports.write(0x70, width: 1, value: 0x04)
        ports.write(0x71, width: 1, value: 17)
        ports.write(0x70, width: 1, value: 0x0B)
        ports.write(0x71, width: 1, value: 0x06)
        #expect(read(0x04) == 17)
        clock.advance(by: 2_000_000_000)
        #expect(read(0x00) == 1) // 59 + 2 s
    }

    @Test func periodicInterruptOnIRQ8AndRegisterCClears() {
        ports.write(0x70, width: 1, value: 0x0B)
        ports.write(0x71, width: 1, value: 0x42) // PIE
        for _ in 0..<200 {
            clock.advance(by: 500_000)
            scheduler.fireDue()
            _ = read(0x0C) // acknowledge, as an IRQ8 handler does
        }
        #expect(irqs.edges[8] == 102 || irqs.edges[8] == 103) // 1024 Hz for 100 ms
        #expect(read(0x0C) == 0)
    }

    @Test func configurationBytesPersistAcrossReset() {
        rtc.setByte(0x10, 0x40)
        rtc.reset()
        #expect(read(0x10) == 0x40)
        #expect(ports.read(0x70, width: 1) == 0xFF)
    }
}
