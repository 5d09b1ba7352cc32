import Testing
@testable import Engine

/// An ATAPI CD-ROM on an AHCI port: packet commands from the command table's ATAPI area run
/// on the drive's command set (the one IDE uses), data through the PRDT.
@Suite struct AHCIATAPITests {
    let drive = ATAPICDROM(medium: PatternDisc(sectors: 40))
    let rig: AHCIRig

    init() throws {
        rig = try AHCIRig(device: .cdrom(drive))
        rig.startPort()
        rig.setPort(0x18, 0x0100_0011) // ATAPI | FRE | ST
    }

    /// A PACKET command with `cdb` (padded to 12 bytes); features bit 0 asks for DMA.
    func packet(slot: Int = 0, _ cdb: [UInt8], into buffer: (UInt64, Int)? = nil, dma: Bool = true) {
        rig.issue(slot: slot, AHCIRig.fis(0xA0, features: dma ? 1 : 0), prdt: buffer.map { [$0] } ?? [],
                  packet: cdb + [UInt8](repeating: 0, count: 12 - cdb.count))
    }

    @Test func signatureAndIdentifyPacketDevice() {
        #expect(rig.port(0x24) == 0xEB14_0101)
        rig.issue(AHCIRig.fis(0xA1), prdt: [(0x40000, 512)])
        let data = rig.bytes(at: 0x40000, 2)
        #expect(UInt16(data[0]) | UInt16(data[1]) << 8 == 0x85C0)
        #expect(rig.port(0x38) == 0 && rig.port(0x10) & 0x4000_0000 == 0)
        rig.issue(slot: 1, AHCIRig.fis(0xEC), prdt: [(0x40000, 512)]) // IDENTIFY DEVICE: aborted
        #expect(rig.port(0x10) & 0x4000_0000 != 0)
    }

    @Test func readAndInquiryThroughThePRDT() {
        packet([0x28, 0, 0, 0, 0, 5, 0, 0, 2], into: (0x100000, 4096)) // READ(10) LBA 5, 2 sectors
        #expect(rig.port(0x38) == 0 && rig.port(0x10) & 0x4000_0000 == 0)
        #expect(rig.bytes(at: 0x100000, 4096) == PatternDisc.sector(5) + PatternDisc.sector(6))
        #expect(rig.transferred(slot: 0) == 4096)
        packet(slot: 1, [0x12, 0, 0, 0, 36], into: (0x40000, 36), dma: false) // INQUIRY
        #expect(rig.bytes(at: 0x40000, 2) == [0x05, 0x80])
        #expect(rig.port(0x10) & 0x2 != 0) // PIO data: a PIO setup FIS
        #expect(rig.transferred(slot: 1) == 36)
    }

    @Test func checkConditionThenRequestSense() {
        drive.insert(nil) // tray emptied by the host
        packet([0x00]) // TEST UNIT READY
        #expect(rig.port(0x10) & 0x4000_0000 != 0)
        #expect(rig.port(0x20) >> 12 == 0x2) // NOT READY in the error register's high nibble
        rig.setPort(0x18, 0x0100_0010); rig.setPort(0x10, 0xFFFF_FFFF); rig.setPort(0x18, 0x0100_0011)
        packet(slot: 1, [0x03, 0, 0, 0, 18], into: (0x40000, 18)) // REQUEST SENSE
        let sense = rig.bytes(at: 0x40000, 18)
        #expect(sense[2] == 0x02 && sense[12] == 0x3A) // medium not present
    }
}
