/// Cuts a byte stream into control-protocol frames: bytes go in as they arrive, whole frame
/// bodies come out. A length of 0 or above `ControlMessage.maxFrame` is garbage, not a frame.
public struct ControlFramer: Sendable {
    private var buffer: [UInt8] = []

    public init() {}

    public mutating func append(_ bytes: some Collection<UInt8>) { buffer += bytes }

    /// The next whole frame's body, nil until one has arrived.
    public mutating func next() throws -> [UInt8]? {
        guard buffer.count >= 4 else { return nil }
        let length = buffer[0..<4].reduce(0) { $0 << 8 | Int($1) }
        guard length >= 1, length <= ControlMessage.maxFrame else {
            throw ControlProtocolError.malformed("a frame length of \(length) bytes (1 to \(ControlMessage.maxFrame) allowed)")
        }
        guard buffer.count >= 4 + length else { return nil }
        let body = Array(buffer[4..<4 + length])
        buffer.removeFirst(4 + length)
        return body
    }
}
