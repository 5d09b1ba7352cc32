/// The last bytes a serial port sent, as text to search; trimmed to `keep` bytes (twice the
/// longest text searched for, at least 4 KiB) so a match across two reads is not lost.
final class SerialTail {
    var keep = 4096
    private var bytes: [UInt8] = []

    func append(_ byte: UInt8) {
        bytes.append(byte)
        if bytes.count > 2 * keep { bytes.removeFirst(bytes.count - keep) }
    }

    var text: String { String(decoding: bytes, as: UTF8.self) }
}
