import Engine
import TUI

/// `vmtui` with no arguments: the library screen in the terminal.
struct MainApp {
    var library: VMLibrary
    var themeName: String?
    var selectedVM: String?
    /// Start the selected VM at once (`--start NAME`, the demo's way to show a guest right away).
    var startSelected = false

    func run() throws {
        let (theme, warning) = ThemeStore.standard().load(name: themeName ?? "default")
        let terminal = try Terminal()
        let sessions = VMSessions()
        let screen = MainScreen(library: library, sessions: sessions)
        screen.consolePane = ConsolePane(depth: terminal.depth, utf8: terminal.utf8)
        let app = Application(root: screen, styles: theme.resolved(for: terminal.depth))
        app.liveVersion = { sessions.version &+ screen.watchLibrary() }
        if let warning { app.open(Dialog(title: "Theme", message: warning)) }
        if let selectedVM {
            screen.reload(selecting: selectedVM)
            if screen.selectedEntry?.name != selectedVM {
                screen.show("No VM named \(selectedVM) to \(startSelected ? "start" : "select"): pick one from the list.", isError: true)
            } else if startSelected {
                _ = app.send(.char("s"))
            }
        }
        app.run(on: terminal)
        sessions.powerOffAll()
    }
}
