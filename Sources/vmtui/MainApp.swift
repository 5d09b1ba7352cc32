import Engine
import TUI

/// `vmtui` with no arguments: the library screen in the terminal.
struct MainApp {
    var library: VMLibrary
    var themeName: String?
    var selectedVM: String?

    func run() throws {
        let (theme, warning) = ThemeStore.standard().load(name: themeName ?? "default")
        let terminal = try Terminal()
        let sessions = VMSessions()
        let screen = MainScreen(library: library, sessions: sessions)
        screen.consolePane = ConsolePane(depth: terminal.depth, utf8: terminal.utf8)
        if let selectedVM { screen.reload(selecting: selectedVM) }
        let app = Application(root: screen, styles: theme.resolved(for: terminal.depth))
        app.liveVersion = { sessions.version }
        if let warning { app.open(Dialog(title: "Theme", message: warning)) }
        app.run(on: terminal)
        sessions.powerOffAll()
    }
}
