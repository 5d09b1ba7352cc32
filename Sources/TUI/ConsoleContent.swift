/// A VGA-style text grid: CP437 codes and attribute bytes plus the cursor. The engine's
/// TextScreen already has this shape, so the vmtui target conforms it with an empty extension
/// and the TUI needs no engine knowledge.
public protocol ConsoleContent {
    var columns: Int { get }
    var rows: Int { get }
    var cursorColumn: Int { get }
    var cursorRow: Int { get }
    var cursorVisible: Bool { get }
    /// Attribute bit 7 means blink (true) or a bright background (false).
    var blinkEnabled: Bool { get }
    func character(column: Int, row: Int) -> UInt8
    func attribute(column: Int, row: Int) -> UInt8
    /// Cursor scan lines within the cell (VGA CRTC cursor start/end), for its shape.
    var cursorStartLine: Int { get }
    var cursorEndLine: Int { get }
}

extension ConsoleContent {
    public var cursorStartLine: Int { 13 }
    public var cursorEndLine: Int { 14 }
    /// A cursor that starts in the upper half of the cell and reaches its lower part is a block.
    public var cursorIsBlock: Bool { cursorStartLine * 2 < cursorEndLine && cursorEndLine > 4 }
}
