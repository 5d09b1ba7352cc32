/// Reads one control-protocol frame's payload; every read checks the bounds and throws
/// `ControlProtocolError.malformed` instead of trapping on a short or hostile frame.
struct ControlReader {
    private let bytes: [UInt8]
    private var offset = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var isAtEnd: Bool { offset == bytes.count }

    private mutating func take(_ count: Int) throws -> ArraySlice<UInt8> {
        guard count >= 0, count <= bytes.count - offset else {
            throw ControlProtocolError.malformed("a field runs past the end of its frame")
        }
        defer { offset += count }
        return bytes[offset..<offset + count]
    }

    private mutating func integer(_ width: Int) throws -> UInt64 {
        try take(width).reduce(0) { $0 << 8 | UInt64($1) }
    }

    mutating func u8() throws -> UInt8 { try take(1).first! }
    mutating func bool() throws -> Bool { try u8() != 0 }
    mutating func u16() throws -> UInt16 { UInt16(try integer(2)) }
    mutating func u32() throws -> UInt32 { UInt32(try integer(4)) }
    mutating func u64() throws -> UInt64 { try integer(8) }
    mutating func i64() throws -> Int64 { Int64(bitPattern: try u64()) }
    mutating func f64() throws -> Double { Double(bitPattern: try u64()) }
    mutating func data() throws -> [UInt8] { Array(try take(Int(try u32()))) }
    mutating func string() throws -> String { String(decoding: try data(), as: UTF8.self) }
}
