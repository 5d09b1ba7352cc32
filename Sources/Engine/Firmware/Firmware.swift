/// The two ROM images a PC needs: the system BIOS (SeaBIOS) and the VGA option ROM.
public struct Firmware: Sendable {
    public let biosPath: String
    public let bios: [UInt8]
    public let vgaBiosPath: String
    public let vgaBios: [UInt8]

    public init(biosPath: String, bios: [UInt8], vgaBiosPath: String, vgaBios: [UInt8]) {
        self.biosPath = biosPath
        self.bios = bios
        self.vgaBiosPath = vgaBiosPath
        self.vgaBios = vgaBios
    }
}
