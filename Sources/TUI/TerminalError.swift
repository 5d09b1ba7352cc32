/// The interactive screen could not start (no terminal, unknown TERM).
public struct TerminalError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var description: String { message }
}
