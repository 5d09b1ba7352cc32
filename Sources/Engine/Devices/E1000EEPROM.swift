/// The 82540EM's 64-word microwire EEPROM: the MAC address, IDs and a checksum word that makes
/// words 0x00-0x3F sum to 0xBABA (what drivers verify). Read through EERD, or bit-banged
/// through EECD as Linux's e1000 does for this chip (opcode 110, six address bits, 16 data
/// bits out, MSB first, sampled on the rising edge of SK).
struct E1000EEPROM {
    static let wordCount = 64
    static let checksumTarget: UInt16 = 0xBABA

    private(set) var words = [UInt16](repeating: 0xFFFF, count: wordCount)

    // EECD bits.
    static let clock: UInt32 = 1 << 0        // SK
    static let chipSelect: UInt32 = 1 << 1   // CS
    static let dataIn: UInt32 = 1 << 2       // DI (host to EEPROM)
    static let dataOut: UInt32 = 1 << 3      // DO (EEPROM to host)
    static let request: UInt32 = 1 << 6      // REQ
    static let grant: UInt32 = 1 << 7        // GNT
    static let present: UInt32 = 1 << 8      // PRES

    // Bit-bang state.
    private var pins: UInt32 = 0
    private var shiftIn: UInt32 = 0
    private var bitsIn = 0
    /// While reading: the bit index (word * 16 + bit) on DO; nil before the address is complete.
    private var outBit: Int?

    init(mac: [UInt8], deviceID: UInt16, vendorID: UInt16, subsystem: (vendor: UInt16, device: UInt16)) {
        for i in 0..<3 { words[i] = UInt16(mac[2 * i]) | UInt16(mac[2 * i + 1]) << 8 }
        words[0x03] = 0x0000        // compatibility: no special features
        words[0x05] = 0x0000        // EEPROM image version
        words[0x08] = 0x0000        // PBA number
        words[0x09] = 0x0000
        words[0x0A] = 0x4408        // init control 1: EEPROM signature 01b in bits 15:14
        words[0x0B] = subsystem.device
        words[0x0C] = subsystem.vendor
        words[0x0D] = deviceID
        words[0x0E] = vendorID
        words[0x0F] = 0x3000        // init control 2: symmetric and asymmetric pause
        var sum: UInt16 = 0
        for w in words[0..<0x3F] { sum &+= w }
        words[0x3F] = E1000EEPROM.checksumTarget &- sum
    }

    /// EERD: a write with START (bit 0) and the word address in bits 15:8 completes at once;
    /// reads return DONE (bit 4), the address and the data in bits 31:16.
    func eerd(afterWriting value: UInt32) -> UInt32 {
        guard value & 1 != 0 else { return value & ~0x11 }
        let address = Int((value >> 8) & 0xFF)
        let data = address < E1000EEPROM.wordCount ? UInt32(words[address]) : 0
        return data << 16 | UInt32(address) << 8 | 0x10
    }

    /// The EECD value the driver reads back: present, the grant when requested, and DO.
    var eecd: UInt32 {
        var value = (pins & (E1000EEPROM.clock | E1000EEPROM.chipSelect | E1000EEPROM.dataIn | E1000EEPROM.request))
            | E1000EEPROM.present
        if pins & E1000EEPROM.request != 0 { value |= E1000EEPROM.grant }
        if let bit = outBit, bit >= 0, bit < E1000EEPROM.wordCount * 16 {
            let word = words[bit / 16]
            if word & (0x8000 >> UInt16(bit % 16)) != 0 { value |= E1000EEPROM.dataOut }
        }
        return value
    }

    mutating func writeEECD(_ value: UInt32) {
        let old = pins
        pins = value
        guard value & E1000EEPROM.chipSelect != 0 else {
            // Deselected (standby between words): the next command starts afresh.
            shiftIn = 0
            bitsIn = 0
            outBit = nil
            return
        }
        let rising = old & E1000EEPROM.clock == 0 && value & E1000EEPROM.clock != 0
        guard rising else { return }
        if let bit = outBit {
            outBit = bit + 1
            return
        }
        shiftIn = shiftIn << 1 | (value & E1000EEPROM.dataIn != 0 ? 1 : 0)
        bitsIn += 1
        // A read is the start bit and opcode 10 (110) and six address bits.
        if bitsIn == 9 {
            if shiftIn >> 6 == 0b110 { outBit = Int(shiftIn & 0x3F) * 16 - 1 }
            else { shiftIn = 0; bitsIn = 0 }
        }
    }
}
