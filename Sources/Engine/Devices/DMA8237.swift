/// The PC/AT pair of Intel 8237A DMA controllers (channels 0-3 at 0x00-0x0F, 8-bit; 4-7 at
/// 0xC0-0xDF, 16-bit, channel 4 the cascade) and the page registers at 0x81-0x8F. Devices
/// (the FDC) move data with `transfer`, which honours mask, mode and terminal count.
public final class DMA8237: PortDevice {
    struct Channel {
        var baseAddress: UInt16 = 0
        var baseCount: UInt16 = 0
        var address: UInt16 = 0
        var count: UInt16 = 0
        var mode: UInt8 = 0
        var page: UInt8 = 0
    }

    struct Chip {
        var channels = [Channel](repeating: Channel(), count: 4)
        var mask: UInt8 = 0x0F
        var status: UInt8 = 0
        var command: UInt8 = 0
        var flipFlop = false
    }

    private var chips = [Chip(), Chip()]
    private var pageBytes = [UInt8](repeating: 0, count: 16)
    private let memory: MemoryMap

    /// Page register port offset (0x80 + n) for channels 0-7.
    static let pagePort: [Int] = [0x7, 0x3, 0x1, 0x2, 0xF, 0xB, 0x9, 0xA]

    public init(memory: MemoryMap) {
        self.memory = memory
    }

    public func reset() {
        chips = [Chip(), Chip()]
        pageBytes = [UInt8](repeating: 0, count: 16)
    }

    public enum Direction { case toMemory, fromMemory }

    /// Moves up to `count` bytes between the device buffer and guest memory on `channel`.
    /// Returns the bytes moved: 0 if the channel is masked or programmed the other way.
    @discardableResult
    public func transfer(channel: Int, direction: Direction, buffer: UnsafeMutableRawBufferPointer) -> Int {
        let chipIndex = channel / 4, line = channel % 4
        var chip = chips[chipIndex]
        guard chip.mask & (1 << UInt8(line)) == 0 else { return 0 }
        var ch = chip.channels[line]
        let type = (ch.mode >> 2) & 3 // 1 write (to memory), 2 read (from memory), 0 verify
        let wanted: UInt8 = direction == .toMemory ? 1 : 2
        let wide = chipIndex == 1
        let unit = wide ? 2 : 1
        let decrement = ch.mode & 0x20 != 0
        var moved = 0
        var done = false
        while moved + unit <= buffer.count && !done {
            let physical: UInt32 = wide
                ? UInt32(ch.page & 0xFE) << 16 | UInt32(ch.address) << 1
                : UInt32(ch.page) << 16 | UInt32(ch.address)
            for i in 0..<unit where type == wanted {
                if direction == .toMemory {
                    memory.write(physical + UInt32(i), width: 1, value: UInt32(buffer[moved + i]))
                } else {
                    buffer[moved + i] = UInt8(truncatingIfNeeded: memory.read(physical + UInt32(i), width: 1))
                }
            }
            moved += unit
            ch.address = decrement ? ch.address &- 1 : ch.address &+ 1
            if ch.count == 0 {
                done = true
                chip.status |= 1 << UInt8(line)
                if ch.mode & 0x10 != 0 { // autoinitialize
                    ch.address = ch.baseAddress
                    ch.count = ch.baseCount
                } else {
                    ch.count = 0xFFFF
                    chip.mask |= 1 << UInt8(line)
                }
            } else {
                ch.count &-= 1
            }
        }
        chip.channels[line] = ch
        chips[chipIndex] = chip
        return moved
    }

    /// Bytes the channel is programmed to move (count + 1 units).
    public func remaining(channel: Int) -> Int {
        (Int(chips[channel / 4].channels[channel % 4].count) + 1) * (channel >= 4 ? 2 : 1)
    }

    // MARK: Ports

    private func decode(_ port: UInt16) -> (chip: Int, register: Int)? {
        switch port {
        case 0x00...0x0F: return (0, Int(port))
        case 0xC0...0xDF: return (1, Int(port - 0xC0) >> 1)
        default: return nil
        }
    }

    public func portRead(_ port: UInt16, width: Int) -> UInt32 {
        if (0x80...0x8F).contains(port) { return UInt32(pageBytes[Int(port - 0x80)]) }
        guard let (c, r) = decode(port) else { return PortMap.allOnes(width) }
        switch r {
        case 0...7:
            let ch = chips[c].channels[r / 2]
            let value = r & 1 == 0 ? ch.address : ch.count
            let high = chips[c].flipFlop
            chips[c].flipFlop.toggle()
            return UInt32(high ? value >> 8 : value & 0xFF)
        case 8:
            let status = chips[c].status
            chips[c].status &= 0xF0 // reading clears the terminal-count bits
            return UInt32(status)
        default:
            return 0
        }
    }

    public func portWrite(_ port: UInt16, width: Int, value: UInt32) {
        let byte = UInt8(value & 0xFF)
        if (0x80...0x8F).contains(port) {
            pageBytes[Int(port - 0x80)] = byte
            for ch in 0..<8 where DMA8237.pagePort[ch] == Int(port - 0x80) {
                chips[ch / 4].channels[ch % 4].page = byte
            }
            return
        }
        guard let (c, r) = decode(port) else { return }
        switch r {
        case 0...7:
            let line = r / 2
            let high = chips[c].flipFlop
            chips[c].flipFlop.toggle()
            var ch = chips[c].channels[line]
            if r & 1 == 0 {
                ch.baseAddress = high ? (ch.baseAddress & 0x00FF) | UInt16(byte) << 8 : (ch.baseAddress & 0xFF00) | UInt16(byte)
                ch.address = ch.baseAddress
            } else {
                ch.baseCount = high ? (ch.baseCount & 0x00FF) | UInt16(byte) << 8 : (ch.baseCount & 0xFF00) | UInt16(byte)
                ch.count = ch.baseCount
            }
            chips[c].channels[line] = ch
        case 8: chips[c].command = byte
        case 9: break // software DMA request: not used by PC software
        case 10:
            let bit = UInt8(1) << (byte & 3)
            if byte & 4 != 0 { chips[c].mask |= bit } else { chips[c].mask &= ~bit }
        case 11: chips[c].channels[Int(byte & 3)].mode = byte
        case 12: chips[c].flipFlop = false
        case 13: // master clear
            chips[c].mask = 0x0F
            chips[c].status = 0
            chips[c].command = 0
            chips[c].flipFlop = false
        case 14: chips[c].mask = 0
        case 15: chips[c].mask = byte & 0x0F
        default: break
        }
    }
}
