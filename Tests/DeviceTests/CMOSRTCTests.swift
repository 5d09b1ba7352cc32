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

extension CMOSRTCTests {
    func write(_ reg: UInt32, _ value: UInt32) {
        ports.write(0x70, width: 1, value: reg | 0x80)
        ports.write(0x71, width: 1, value: value)
    }

    /// Runs the clock for `seconds` in 100 ms steps, acknowledging IRQ8 through register C as
    /// a handler would; returns the register C values that had a flag set.
    func run(seconds: Int) -> [UInt32] {
        var seen: [UInt32] = []
        for _ in 0..<(seconds * 10) {
            clock.advance(by: 100_000_000)
            scheduler.fireDue()
            let c = read(0x0C)
            if c != 0 { seen.append(c) }
        }
        return seen
    }

    @Test func updateEndedInterruptOncePerSecond() {
        write(0x0B, 0x12) // UIE, 24 h
        let seen = run(seconds: 3)
        #expect(seen == [0x90, 0x90, 0x90]) // IRQF | UF
        #expect(irqs.edges[8] == 3)
        #expect(read(0x00) == 0x02) // 59 + 3 s, each update latched the new time
    }

    @Test func alarmFiresAtItsTimeAndHonoursDontCare() {
        // 09:59:01 is two seconds after the start time; only AIE is enabled.
        write(0x01, 0x01); write(0x03, 0x59); write(0x05, 0x09)
        write(0x0B, 0x22)
        // UF is set by every update (polled, no interrupt); the alarm second adds AF and IRQF.
        let seen = run(seconds: 4)
        #expect(seen.filter { $0 & 0x80 == 0 } == [0x10, 0x10, 0x10])
        #expect(seen.filter { $0 & 0x80 != 0 } == [0xB0])
        // Don't-care hours and minutes (0xC0-0xFF): every minute at second 30.
        write(0x01, 0x30); write(0x03, 0xFF); write(0x05, 0xC0)
        #expect(run(seconds: 65).filter { $0 & 0x80 != 0 } == [0xB0])
        #expect(irqs.edges[8] == 2)
    }
}

extension CMOSRTCTests {
    @Test func updateInProgressRisesJustBeforeEachSecond() {
        #expect(read(0x0A) == 0x26)
        clock.advance(by: 999_800_000) // 200 µs before the update
        #expect(read(0x0A) == 0xA6)
        #expect(read(0x00) == 0x59) // the old second until the update
        clock.advance(by: 300_000)
        #expect(read(0x0A) == 0x26)
        #expect(read(0x00) == 0x00)
        write(0x0B, 0x82) // SET stops updates: no UIP
        clock.advance(by: 999_800_000)
        #expect(read(0x0A) == 0x26)
    }
}

extension CMOSRTCTests {
    @Test func updateFlagLatchesForPollingWithoutInterrupts() {
        clock.advance(by: 2_100_000_000)
        scheduler.fireDue()
        #expect(read(0x0C) == 0x10) // UF, no IRQF
        #expect(read(0x0C) == 0) // reading C cleared it
        #expect(irqs.edges[8] == 0)
    }
}
