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
        let processes = VMProcesses()
        try show(processes)
        // Quitting (q, F10, Ctrl-C, a closed terminal) detaches: the VMs are processes of their own.
        let running = processes.detachAll()
        if !running.isEmpty {
            print("vmtui: detached; still running: \(running.joined(separator: ", ")) (`vmtui` or `vmtui attach NAME` to "
                + "return, `vmtui stop NAME` to shut down)")
        }
    }

    /// The screen, until the user quits; the terminal is restored when it returns.
    private func show(_ processes: VMProcesses) throws {
        let (theme, warning) = ThemeStore.standard().load(name: themeName ?? "default")
        let terminal = try Terminal()
        let screen = MainScreen(library: library, processes: processes)
        screen.consolePane = ConsolePane(depth: terminal.depth, utf8: terminal.utf8)
        let app = Application(root: screen, styles: theme.resolved(for: terminal.depth))
        app.liveVersion = { processes.version &+ screen.watchLibrary() }
        if let warning { app.open(Dialog(title: "Theme", message: warning)) }
        if let advice = processes.run?.lingerAdvice { screen.show(advice) }
        if let problem = processes.runError { screen.show("VMs cannot start: \(problem)", isError: true) }
        if let selectedVM {
            screen.reload(selecting: selectedVM)
            if screen.selectedEntry?.name != selectedVM {
                screen.show("No VM named \(selectedVM) to \(startSelected ? "start" : "select"): pick one from the list.", isError: true)
            } else if startSelected {
                _ = app.send(.char("s"))
            }
        }
        app.run(on: terminal)
    }
}
