/// The standard PC floppy formats, recognised by image size, with the CMOS 0x10 drive type.
public struct FloppyGeometry: Equatable, Sendable {
    public let cylinders: Int
    public let heads: Int
    public let sectorsPerTrack: Int
    public let cmosType: UInt8

    public static let all: [FloppyGeometry] = [
        FloppyGeometry(cylinders: 40, heads: 2, sectorsPerTrack: 9, cmosType: 1),   // 360 KB
        FloppyGeometry(cylinders: 80, heads: 2, sectorsPerTrack: 15, cmosType: 2),  // 1.2 MB
        FloppyGeometry(cylinders: 80, heads: 2, sectorsPerTrack: 9, cmosType: 3),   // 720 KB
        FloppyGeometry(cylinders: 80, heads: 2, sectorsPerTrack: 18, cmosType: 4),  // 1.44 MB
        FloppyGeometry(cylinders: 80, heads: 2, sectorsPerTrack: 36, cmosType: 5),  // 2.88 MB
    ]

    public var bytes: UInt64 { UInt64(cylinders * heads * sectorsPerTrack * 512) }

    /// The format of an image of `size` bytes, or nil (with the sizes allowed in the message).
    public static func forImage(size: UInt64) -> FloppyGeometry? { all.first { $0.bytes == size } }

    public static var allowedSizes: String {
        all.map { String($0.bytes) }.joined(separator: ", ")
    }
}
