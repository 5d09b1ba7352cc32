/// Like QEMU's isa-debug-exit at 0xF4: a guest write of `v` ends the machine with exit status
/// (v << 1) | 1, so test guests can report pass/fail.
public final class DebugExitPort: PortDevice {
    public var onExit: (Int32) -> Void = { _ in }
    public init() {}
    public func portRead(_ port: UInt16, width: Int) -> UInt32 { PortMap.allOnes(width) }
    public func portWrite(_ port: UInt16, width: Int, value: UInt32) {
        onExit(Int32(truncatingIfNeeded: (value & 0xFF) << 1 | 1))
    }
}
