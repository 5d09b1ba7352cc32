import Engine

/// The interactive screen (placeholder until the TUI lands).
struct MainApp {
    var library: VMLibrary
    var themeName: String?

    func run() throws {
        print("vmtui \(VMTUICommand.version): the interactive screen is not built yet.")
    }
}
