/// Intel 8254 programmable interval timer at 0x40-0x43 (1.193182 MHz): channel 0 drives
/// IRQ0, channel 2 the speaker and, through port 0x61 (PIIX3 NMI status/control, also here),
/// the OUT2 bit SeaBIOS calibrates the TSC with. Counts are computed from the machine clock.
public final class PIT8254: PortDevice, TimedDevice {
    public static let hz: UInt64 = 1_193_182

    struct Channel {
        var mode = 0
        var access = 3 // 1 low byte, 2 high byte, 3 low then high
        var bcd = false
        var reload: UInt32 = 0x10000
        var loadedAt: UInt64 = 0
        var counting = false
        var gate = true
        var writeLow = true
        var pendingLow: UInt8 = 0
        var readLow = true
        var latched: UInt16?
        var latchedStatus: UInt8?
        var nullCount = true
        /// Next periodic IRQ edge (channel 0), ns.
        var nextEdge: UInt64?
    }

    private var channels = [Channel](repeating: Channel(), count: 3)
    private let clock: MachineClock
    private let irq0: IRQLine
    private var portB: UInt8 = 0
    public var deadlineArmed: ((UInt64) -> Void)?

    public init(clock: MachineClock, irq0: IRQLine) {
        self.clock = clock
        self.irq0 = irq0
        reset()
    }

    public func reset() {
        channels = [Channel](repeating: Channel(), count: 3)
        channels[2].gate = false
        portB = 0
    }

    // MARK: Counting

    private func elapsedTicks(_ c: Channel, _ now: UInt64) -> UInt64 {
        Timebase.ticks(now &- c.loadedAt, hz: PIT8254.hz)
    }

    /// The counting element now.
    private func count(_ i: Int, _ now: UInt64) -> UInt16 {
        let c = channels[i]
        guard c.counting else { return UInt16(truncatingIfNeeded: c.reload) }
        let t = elapsedTicks(c, now)
        let reload = UInt64(c.reload)
        switch c.mode {
        case 2, 3:
            let phase = t % reload
            if c.mode == 3 { return UInt16(truncatingIfNeeded: (reload - ((2 * phase) % reload)) & 0xFFFE) }
            return UInt16(truncatingIfNeeded: reload - phase)
        default:
            return UInt16(truncatingIfNeeded: (reload &- t) & 0xFFFF)
        }
    }

    /// The OUT pin now.
    func output(_ i: Int, _ now: UInt64) -> Bool {
        let c = channels[i]
        guard c.counting else { return c.mode != 0 }
        let t = elapsedTicks(c, now)
        let reload = UInt64(c.reload)
        switch c.mode {
        case 0, 1: return t >= reload
        case 2: return t % reload != reload - 1
        case 3: return t % reload < (reload + 1) / 2
        case 4, 5: return t != reload
        default: return true
        }
    }

    // MARK: TimedDevice (channel 0 to IRQ0)

    public func nextDeadline() -> UInt64? { channels[0].nextEdge }

    public func fire(now: UInt64) {
        guard let edge = channels[0].nextEdge, edge <= now else { return }
        irq0.pulse()
        let c = channels[0]
        if c.mode == 2 || c.mode == 3 {
            let period = UInt64(c.reload)
            let t = elapsedTicks(c, now)
            let next = (t / period + 1) * period
            channels[0].nextEdge = c.loadedAt &+ Timebase.nanoseconds(ticks: next, hz: PIT8254.hz)
        } else {
            channels[0].nextEdge = nil
        }
    }

    private func scheduleChannel0() {
        let c = channels[0]
        guard c.counting, c.gate else { channels[0].nextEdge = nil; return }
        // Modes 0 and 4 fire once, 2 and 3 every `reload` ticks; the first edge is one period in.
        let fires = [0, 2, 3, 4].contains(c.mode)
        channels[0].nextEdge = fires ? c.loadedAt &+ Timebase.nanoseconds(ticks: UInt64(c.reload), hz: PIT8254.hz) : nil
        if let edge = channels[0].nextEdge { deadlineArmed?(edge) }
    }

    private func load(_ i: Int, _ value: UInt16) {
        let now = clock.nanoseconds
        channels[i].reload = value == 0 ? 0x10000 : UInt32(value)
        channels[i].loadedAt = now
        channels[i].nullCount = false
        channels[i].counting = channels[i].gate
        if i == 0 { scheduleChannel0() }
    }

    private func setGate(_ i: Int, _ level: Bool) {
        let was = channels[i].gate
        channels[i].gate = level
        guard level != was else { return }
        if level && !channels[i].nullCount {
            // A rising gate (re)starts modes 1, 2, 3, 5 and resumes mode 0/4.
            channels[i].loadedAt = clock.nanoseconds
            channels[i].counting = true
        } else if !level && (channels[i].mode == 2 || channels[i].mode == 3 || channels[i].mode == 0) {
            channels[i].counting = false
        }
    }

    // MARK: Ports

    public func portRead(_ port: UInt16, width: Int) -> UInt32 {
        let now = clock.nanoseconds
        switch port {
        case 0x40...0x42:
            let i = Int(port - 0x40)
            if let status = channels[i].latchedStatus {
                channels[i].latchedStatus = nil
                return UInt32(status)
            }
            let value = channels[i].latched ?? count(i, now)
            switch channels[i].access {
            case 1:
                channels[i].latched = nil
                return UInt32(value & 0xFF)
            case 2:
                channels[i].latched = nil
                return UInt32(value >> 8)
            default:
                if channels[i].readLow {
                    channels[i].readLow = false
                    if channels[i].latched == nil { channels[i].latched = value }
                    return UInt32(value & 0xFF)
                }
                channels[i].readLow = true
                channels[i].latched = nil
                return UInt32(value >> 8)
            }
        case 0x61:
            let refresh: UInt8 = (now / 15_085) & 1 != 0 ? 0x10 : 0
            let out2: UInt8 = output(2, now) ? 0x20 : 0
            return UInt32((portB & 0x0F) | refresh | out2)
        default:
            return PortMap.allOnes(width)
        }
    }

    public func portWrite(_ port: UInt16, width: Int, value: UInt32) {
        let byte = UInt8(value & 0xFF)
        switch port {
        case 0x40...0x42:
            let i = Int(port - 0x40)
            switch channels[i].access {
            case 1: load(i, UInt16(byte))
            case 2: load(i, UInt16(byte) << 8)
            default:
                if channels[i].writeLow {
                    channels[i].pendingLow = byte
                    channels[i].writeLow = false
                    if channels[i].mode == 0 { channels[i].counting = false; if i == 0 { channels[0].nextEdge = nil } }
                } else {
                    channels[i].writeLow = true
                    load(i, UInt16(byte) << 8 | UInt16(channels[i].pendingLow))
                }
            }
        case 0x43:
            writeControl(byte)
        case 0x61:
            portB = byte & 0x0F
            setGate(2, byte & 1 != 0)
        default:
            break
        }
    }

    private func writeControl(_ byte: UInt8) {
        let select = Int(byte >> 6)
        if select == 3 { // read-back
            let now = clock.nanoseconds
            for i in 0..<3 where byte & (2 << UInt8(i)) != 0 {
                if byte & 0x20 == 0, channels[i].latched == nil { channels[i].latched = count(i, now) }
                if byte & 0x10 == 0, channels[i].latchedStatus == nil { channels[i].latchedStatus = status(i, now) }
            }
            return
        }
        let access = Int((byte >> 4) & 3)
        if access == 0 { // counter latch
            if channels[select].latched == nil { channels[select].latched = count(select, clock.nanoseconds) }
            return
        }
        var c = channels[select]
        c.access = access
        c.mode = Int((byte >> 1) & 7) > 5 ? Int((byte >> 1) & 3) : Int((byte >> 1) & 7)
        c.bcd = byte & 1 != 0
        c.writeLow = true
        c.readLow = true
        c.latched = nil
        c.counting = false
        c.nullCount = true
        channels[select] = c
        if select == 0 { channels[0].nextEdge = nil }
    }

    private func status(_ i: Int, _ now: UInt64) -> UInt8 {
        let c = channels[i]
        return (output(i, now) ? 0x80 : 0) | (c.nullCount ? 0x40 : 0) | UInt8(c.access << 4) | UInt8(c.mode << 1) | (c.bcd ? 1 : 0)
    }
}
