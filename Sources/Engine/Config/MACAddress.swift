#if canImport(Glibc)
import Glibc
#endif

/// A VM's Ethernet address, stored in config.json as "52:54:00:12:34:56". New VMs get a random
/// one under QEMU's locally administered prefix 52:54:00; people may set any unicast address.
public struct MACAddress: Codable, Equatable, Hashable, Sendable, CustomStringConvertible {
    public let bytes: [UInt8]

    public static let allowed = "six hex bytes such as 52:54:00:12:34:56, unicast (first byte even), not all zero"

    /// Parses "52:54:00:12:34:56" (or with '-'), refusing multicast and all-zero addresses.
    public init(parsing text: String) throws {
        func bad(_ problem: String) -> VMConfigError {
            .invalid(file: nil, field: "mac", value: "\"\(text)\"", problem: problem, allowed: MACAddress.allowed)
        }
        let parts = text.split(separator: text.contains("-") ? "-" : ":", omittingEmptySubsequences: false)
        let bytes = parts.compactMap { $0.count == 2 ? UInt8($0, radix: 16) : nil }
        guard parts.count == 6, bytes.count == 6 else { throw bad("is not a MAC address") }
        guard bytes[0] & 1 == 0 else { throw bad("is a multicast address") }
        guard bytes.contains(where: { $0 != 0 }) else { throw bad("is all zero") }
        self.bytes = bytes
    }

    /// 52:54:00 and three random bytes, as QEMU assigns.
    public static func generate() -> MACAddress {
        var random: UInt32 = 0
        arc4random_buf(&random, 3)
        return MACAddress(trusted: [0x52, 0x54, 0x00, UInt8(random & 0xFF), UInt8((random >> 8) & 0xFF), UInt8(random >> 16)])
    }

    private init(trusted bytes: [UInt8]) { self.bytes = bytes }

    public var description: String { bytes.map { hex2($0) }.joined(separator: ":") }

    private func hex2(_ byte: UInt8) -> String {
        let text = String(byte, radix: 16)
        return byte < 16 ? "0" + text : text
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        do { self = try MACAddress(parsing: text) } catch {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "\"\(text)\" is not a usable MAC address; allowed \(MACAddress.allowed)")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
