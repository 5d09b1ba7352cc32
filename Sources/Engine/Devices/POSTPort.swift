/// Port 0x80, the POST diagnostic port: remembers the last code (also used as an I/O delay).
public final class POSTPort: PortDevice {
    public private(set) var lastCode: UInt8 = 0
    public init() {}
    public func portRead(_ port: UInt16, width: Int) -> UInt32 { UInt32(lastCode) }
    public func portWrite(_ port: UInt16, width: Int, value: UInt32) { lastCode = UInt8(value & 0xFF) }
}
