/// The Marvell 88E1011 PHY behind the 82540EM's MDIC register: the IDs the driver matches
/// (0x0141/0x0C2x), control with self-clearing reset and autonegotiation restart, and the
/// status bits that follow the link (link up, autonegotiation complete, 1000/full resolved).
struct E1000PHY {
    static let address: UInt32 = 1

    private var registers = [UInt16](repeating: 0, count: 32)
    var linkUp: Bool { didSet { updateStatus() } }

    init(linkUp: Bool) {
        self.linkUp = linkUp
        reset()
    }

    mutating func reset() {
        registers = [UInt16](repeating: 0, count: 32)
        registers[0x00] = 0x1140 // autonegotiation on, full duplex, 1000 Mb/s
        registers[0x02] = 0x0141 // Marvell OUI
        registers[0x03] = 0x0C20 // 88E1011
        registers[0x04] = 0x01E1 // advertise 10/100 half and full, selector 802.3
        registers[0x09] = 0x0E00 // advertise 1000 full and half, repeater
        registers[0x10] = 0x0068 // PHY specific control: auto crossover
        updateStatus()
    }

    func read(_ register: Int) -> UInt16 { registers[register & 31] }

    mutating func write(_ register: Int, _ value: UInt16) {
        switch register & 31 {
        case 0x00:
            if value & 0x8000 != 0 { reset(); return }
            // Restarting autonegotiation completes at once: there is no cable to wait for.
            registers[0] = value & ~0x0200
        case 0x01, 0x02, 0x03, 0x05, 0x06, 0x0A, 0x11: break // read-only
        default: registers[register & 31] = value
        }
        updateStatus()
    }

    private mutating func updateStatus() {
        let up = linkUp
        registers[0x01] = 0x7949 | (up ? 0x0024 : 0)     // capabilities; link, autoneg complete
        registers[0x05] = up ? 0x45E1 : 0                   // link partner: 10/100 both, ack
        registers[0x06] = up ? 0x0001 : 0                   // link partner autoneg able
        registers[0x0A] = up ? 0x3C00 : 0                   // 1000BASE-T: receivers OK, partner 1000 FD/HD
        registers[0x11] = up ? 0xAC00 : 0x0000              // 1000 Mb/s, full, resolved, link
    }
}
