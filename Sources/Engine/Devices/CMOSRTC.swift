/// Motorola MC146818 real-time clock and 128 bytes of CMOS RAM at 0x70/0x71 (PLATFORM-NOTES
/// §2.6): a BCD/binary clock that ticks with the machine clock, periodic, alarm and
/// update-ended interrupts on IRQ8, and the configuration bytes SeaBIOS reads.
public final class CMOSRTC: PortDevice, TimedDevice {
    private var ram = [UInt8](repeating: 0, count: 128)
    private var index = 0
    private let clock: MachineClock
    private let irq8: IRQLine
    /// Wall-clock seconds (Unix epoch, UTC) at machine time `epochAt`.
    private var epochSeconds: Int64
    private var epochAt: UInt64 = 0
    private var nextPeriodic: UInt64?
    private var nextSecond: UInt64?

    static let regA = 0x0A, regB = 0x0B, regC = 0x0C, regD = 0x0D

    /// `unixTime` is the wall-clock time at machine time 0 (tests pass a fixed one).
    public init(clock: MachineClock, irq8: IRQLine, unixTime: Int64) {
        self.clock = clock
        self.irq8 = irq8
        epochSeconds = unixTime
        epochAt = clock.nanoseconds
        ram[CMOSRTC.regA] = 0x26
        ram[CMOSRTC.regB] = 0x02
        ram[CMOSRTC.regD] = 0x80
        ram[0x32] = 0x20
        reschedule()
    }

    /// Sets a configuration byte (0x0E-0x7F) before power-on.
    public func setByte(_ register: Int, _ value: UInt8) { ram[register & 0x7F] = value }
    public func byte(_ register: Int) -> UInt8 { ram[register & 0x7F] }

    /// Reset keeps the time and the CMOS contents, as the battery-backed chip does; it clears
    /// the interrupt enables.
    public func reset() {
        ram[CMOSRTC.regB] &= ~0x70
        ram[CMOSRTC.regC] = 0
        reschedule()
    }

    // MARK: Time

    private var nowSeconds: Int64 {
        epochSeconds + Int64((clock.nanoseconds &- epochAt) / 1_000_000_000)
    }

    private var binary: Bool { ram[CMOSRTC.regB] & 0x04 != 0 }
    private var hour24: Bool { ram[CMOSRTC.regB] & 0x02 != 0 }

    private func encode(_ v: Int) -> UInt8 {
        binary ? UInt8(v) : UInt8((v / 10) << 4 | (v % 10))
    }

    private func decode(_ b: UInt8) -> Int {
        binary ? Int(b) : Int(b >> 4) * 10 + Int(b & 0x0F)
    }

    /// Writes the current time into registers 0-9 and the century byte.
    private func latchTime() {
        let t = CivilTime(unixSeconds: nowSeconds)
        ram[0x00] = encode(t.second)
        ram[0x02] = encode(t.minute)
        if hour24 {
            ram[0x04] = encode(t.hour)
        } else {
            let h12 = t.hour % 12 == 0 ? 12 : t.hour % 12
            ram[0x04] = encode(h12) | (t.hour >= 12 ? 0x80 : 0)
        }
        ram[0x06] = encode(t.weekday + 1)
        ram[0x07] = encode(t.day)
        ram[0x08] = encode(t.month)
        ram[0x09] = encode(t.year % 100)
        ram[0x32] = encode(t.year / 100)
    }

    /// After the guest sets the clock (SET bit cleared), time continues from its registers.
    private func adoptGuestTime() {
        var hour = decode(ram[0x04] & 0x7F)
        if !hour24 {
            hour %= 12
            if ram[0x04] & 0x80 != 0 { hour += 12 }
        }
        let t = CivilTime(year: decode(ram[0x32]) * 100 + decode(ram[0x09]), month: decode(ram[0x08]),
                          day: decode(ram[0x07]), hour: hour, minute: decode(ram[0x02]), second: decode(ram[0x00]))
        epochSeconds = t.unixSeconds
        epochAt = clock.nanoseconds
    }

    /// UIP: set for the 244 µs before each second's update, as the chip does (and QEMU), so
    /// software that syncs to the second by watching it rise (hwclock's busy-wait) sees it.
    /// Never while SET holds the clock.
    private var updateInProgress: Bool {
        guard ram[CMOSRTC.regB] & 0x80 == 0 else { return false }
        return (clock.nanoseconds &- epochAt) % 1_000_000_000 >= 1_000_000_000 - CMOSRTC.uipNanoseconds
    }

    static let uipNanoseconds: UInt64 = 244_000

    // MARK: Interrupts

    private func periodNanoseconds() -> UInt64? {
        var rate = Int(ram[CMOSRTC.regA] & 0x0F)
        guard rate != 0 else { return nil }
        if rate < 3 { rate += 7 }
        return 1_000_000_000 * (UInt64(1) << UInt64(rate - 1)) / 32768
    }

    private func reschedule() {
        let now = clock.nanoseconds
        let b = ram[CMOSRTC.regB]
        if b & 0x40 != 0, let period = periodNanoseconds() {
            nextPeriodic = (now / period + 1) * period
        } else {
            nextPeriodic = nil
        }
        // Updates run every second unless SET holds the clock: UF (and AF) latch in register C
        // for software that polls them, even with their interrupts off.
        if b & 0x80 == 0 {
            let sinceEpoch = now &- epochAt
            nextSecond = epochAt &+ (sinceEpoch / 1_000_000_000 + 1) * 1_000_000_000
        } else {
            nextSecond = nil
        }
        if let deadline = nextDeadline() { deadlineArmed?(deadline) }
    }

    public var deadlineArmed: ((UInt64) -> Void)?

    public func nextDeadline() -> UInt64? {
        switch (nextPeriodic, nextSecond) {
        case let (p?, s?): return min(p, s)
        case let (p?, nil): return p
        case let (nil, s?): return s
        default: return nil
        }
    }

    public func fire(now: UInt64) {
        var flags: UInt8 = 0
        if let p = nextPeriodic, p <= now { flags |= 0x40 }
        if let s = nextSecond, s <= now {
            flags |= 0x10
            latchTime()
            if alarmMatches() { flags |= 0x20 }
        }
        raise(flags)
        reschedule()
    }

    private func alarmMatches() -> Bool {
        let pairs = [(0x01, 0x00), (0x03, 0x02), (0x05, 0x04)]
        return pairs.allSatisfy { alarm, time in ram[alarm] & 0xC0 == 0xC0 || ram[alarm] == ram[time] }
    }

    /// Sets flags in register C and raises IRQ8 if an enabled one is set.
    private func raise(_ flags: UInt8) {
        guard flags != 0 else { return }
        ram[CMOSRTC.regC] |= flags
        if ram[CMOSRTC.regC] & ram[CMOSRTC.regB] & 0x70 != 0 && ram[CMOSRTC.regC] & 0x80 == 0 {
            ram[CMOSRTC.regC] |= 0x80
            irq8.pulse()
        }
    }

    // MARK: Ports

    public func portRead(_ port: UInt16, width: Int) -> UInt32 {
        // SeaBIOS reads 0x70 at each mode switch; 0xFF means "NMI already off", as on QEMU.
        guard port == 0x71 else { return 0xFF }
        switch index {
        case 0x00...0x09, 0x32:
            if ram[CMOSRTC.regB] & 0x80 == 0 { latchTime() }
            return UInt32(ram[index])
        case CMOSRTC.regA:
            return UInt32(ram[CMOSRTC.regA] & 0x7F | (updateInProgress ? 0x80 : 0))
        case CMOSRTC.regC:
            let value = ram[CMOSRTC.regC]
            ram[CMOSRTC.regC] = 0
            return UInt32(value)
        default:
            return UInt32(ram[index])
        }
    }

    public func portWrite(_ port: UInt16, width: Int, value: UInt32) {
        let byte = UInt8(value & 0xFF)
        if port == 0x70 {
            index = Int(byte & 0x7F) // bit 7 is the NMI mask, not part of the index
            return
        }
        switch index {
        case CMOSRTC.regA:
            ram[index] = byte & 0x7F
            reschedule()
        case CMOSRTC.regB:
            let wasSet = ram[CMOSRTC.regB] & 0x80 != 0
            ram[index] = byte & (byte & 0x80 != 0 ? 0xEF : 0xFF) // SET clears UIE
            if byte & 0x80 != 0 && !wasSet { latchTime() } // in the new data mode
            if wasSet && byte & 0x80 == 0 { adoptGuestTime() }
            reschedule()
        case CMOSRTC.regC, CMOSRTC.regD:
            break
        case 0x00...0x09, 0x32:
            if ram[CMOSRTC.regB] & 0x80 == 0 { latchTime() }
            ram[index] = byte
            if ram[CMOSRTC.regB] & 0x80 == 0 { adoptGuestTime() }
        default:
            ram[index] = byte
        }
    }
}
