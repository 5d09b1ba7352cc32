/// Turns a COM1 scrollback's changes into bytes that rebuild it on the client (and read right on
/// a terminal): what was added to the line last sent, or CR and the line again when it was
/// overwritten, then LF and each new line. Lines only grow or change in place, never shrink.
struct SerialFeed {
    /// `totalLines` when last sent, and the last line as it was then.
    private var sentTotal = 0
    private var sentLast: [UInt8] = []
    /// Lines sent to a new client at most (the rest stays in the VM's scrollback).
    static let initialLines = 2000

    mutating func bytes(for scrollback: SerialScrollback) -> [UInt8] {
        let total = scrollback.totalLines
        let first = sentTotal == 0
        if !first, total == sentTotal, Array(scrollback.tail(1).first?.utf8 ?? "".utf8) == sentLast { return [] }
        let count = first ? min(scrollback.lineCount, SerialFeed.initialLines) : min(total - sentTotal + 1, scrollback.lineCount)
        let lines = scrollback.tail(count).map { Array($0.utf8) }
        var out: [UInt8] = []
        for (i, line) in lines.enumerated() {
            if i == 0, !first, total - sentTotal + 1 == count {
                // The line last sent: only what changed.
                if line.starts(with: sentLast) { out += line[sentLast.count...] } else { out += [0x0D] + line }
            } else {
                if !out.isEmpty || i > 0 || !first { out.append(0x0A) }
                out += line
            }
        }
        sentTotal = total
        sentLast = lines.last ?? []
        return out
    }
}
