/// One terminal cell: a character and how it is drawn. A wide character's right half is a
/// `continuation` cell that the renderer skips.
public struct Cell: Equatable, Sendable {
    public var scalar: Unicode.Scalar
    public var style: CellStyle

    public static let continuation = Unicode.Scalar(UInt8(0))

    public init(_ scalar: Unicode.Scalar, _ style: CellStyle) {
        self.scalar = scalar
        self.style = style
    }

    public static let blank = Cell(" ", CellStyle(foreground: -1, background: -1))
}
