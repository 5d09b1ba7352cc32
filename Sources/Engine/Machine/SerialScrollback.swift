/// A serial line as a dumb terminal shows it: lines with scrollback, CR returning to the start
/// of the line, BS stepping back, Tab to the next multiple of 8, and ANSI escape sequences
/// dropped (a console, not a terminal emulator). Bytes are kept as UTF-8 per line.
public struct SerialScrollback: Sendable {
    public let maxLines: Int
    /// Finished lines, oldest first, then the line being written.
    private var lines: [[UInt8]] = [[]]
    private var column = 0
    private var escape = Escape.none
    /// Lines dropped off the top so far (to keep scroll positions stable).
    public private(set) var droppedLines = 0

    private enum Escape { case none, start, csi }

    public init(maxLines: Int = 10_000) {
        self.maxLines = max(maxLines, 1)
    }

    /// Lines held, including the one being written.
    public var lineCount: Int { lines.count }
    /// Lines ever started: grows by one per newline, so a view can keep its place while scrolled back.
    public var totalLines: Int { droppedLines + lines.count }

    public mutating func append(_ bytes: [UInt8]) {
        for byte in bytes { append(byte) }
    }

    public mutating func append(_ byte: UInt8) {
        switch escape {
        case .start:
            escape = byte == UInt8(ascii: "[") ? .csi : .none
            return
        case .csi:
            if (0x40...0x7E).contains(byte) { escape = .none }
            return
        case .none:
            break
        }
        switch byte {
        case 0x1B: escape = .start
        case 0x0A: newLine()
        case 0x0D: column = 0
        case 0x08: column = max(column - 1, 0)
        case 0x09: repeat { put(0x20) } while column % 8 != 0
        case 0x20...0x7E, 0x80...0xFF: put(byte)
        default: break // other controls (bell, NUL) have no glyph
        }
    }

    private mutating func put(_ byte: UInt8) {
        let last = lines.count - 1
        if column < lines[last].count {
            lines[last][column] = byte
        } else {
            lines[last].append(byte)
        }
        column += 1
    }

    private mutating func newLine() {
        lines.append([])
        column = 0
        let excess = lines.count - maxLines
        if excess > 0 {
            lines.removeFirst(excess)
            droppedLines += excess
        }
    }

    /// `count` lines ending `scrolledBack` lines above the newest, oldest first.
    public func tail(_ count: Int, scrolledBack: Int = 0) -> [String] {
        let end = max(lines.count - max(scrolledBack, 0), 0)
        let start = max(end - max(count, 0), 0)
        return lines[start..<end].map { String(decoding: $0, as: UTF8.self) }
    }

    /// Everything, one string per line (tests, saving a log).
    public var text: String { tail(lines.count).joined(separator: "\n") }
}
