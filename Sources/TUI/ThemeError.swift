/// A theme file that could not be used; the screen falls back to the default theme and says why.
public struct ThemeError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var description: String { message }
}
