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
}
