/// What a piece of the screen is, independent of its colours; themes map roles to styles.
public enum ThemeRole: String, CaseIterable, Codable, Sendable {
    case background, window, border, title, selection, statusBar, dialog, input, error, consoleFrame
}
