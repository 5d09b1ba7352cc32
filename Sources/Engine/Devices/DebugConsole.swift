/// The debug console ports: QEMU's isa-debugcon at 0x402 (SeaBIOS's log; a read must return
/// 0xE9 or SeaBIOS silences itself) and Bochs's 0xE9. Bytes go to `sink`.
public final class DebugConsole: PortDevice {
    public var sink: (UInt8) -> Void
    public private(set) var log: [UInt8] = []
    /// Bytes kept in `log` (the newest), for the report after a failure.
    public var logLimit = 1 << 20

    public init(sink: @escaping (UInt8) -> Void = { _ in }) { self.sink = sink }

    public func portRead(_ port: UInt16, width: Int) -> UInt32 { 0xE9 }

    public func portWrite(_ port: UInt16, width: Int, value: UInt32) {
        let byte = UInt8(value & 0xFF)
        if log.count >= logLimit { log.removeFirst(log.count / 2) }
        log.append(byte)
        sink(byte)
    }

    public var text: String { String(decoding: log, as: UTF8.self) }
}
