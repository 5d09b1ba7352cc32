/// A device that answers I/O port accesses. `width` is 1, 2 or 4 bytes.
/// Ports are cold paths: an existential per access is fine here (STYLE.md).
public protocol PortDevice: AnyObject {
    func portRead(_ port: UInt16, width: Int) -> UInt32
    func portWrite(_ port: UInt16, width: Int, value: UInt32)
}

/// The 64K-port I/O space. Unassigned ports read all-ones and ignore writes, as on QEMU's `pc`.
public final class PortMap {
    private var handlers: [PortDevice?] = Array(repeating: nil, count: 65536)

    public init() {}

    /// Routes every port in `ports` to `device`, replacing any earlier owner.
    public func register(_ device: PortDevice, ports: ClosedRange<UInt16>) {
        for port in ports { handlers[Int(port)] = device }
    }

    public func unregister(ports: ClosedRange<UInt16>) {
        for port in ports { handlers[Int(port)] = nil }
    }

    public func device(at port: UInt16) -> PortDevice? { handlers[Int(port)] }

    public func read(_ port: UInt16, width: Int) -> UInt32 {
        guard let device = handlers[Int(port)] else { return PortMap.allOnes(width) }
        return device.portRead(port, width: width) & PortMap.allOnes(width)
    }

    public func write(_ port: UInt16, width: Int, value: UInt32) {
        handlers[Int(port)]?.portWrite(port, width: width, value: value & PortMap.allOnes(width))
    }

    @inline(__always) public static func allOnes(_ width: Int) -> UInt32 {
        width >= 4 ? 0xFFFF_FFFF : (UInt32(1) << UInt32(width * 8)) &- 1
    }
}
