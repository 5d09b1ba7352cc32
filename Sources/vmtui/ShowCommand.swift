import ArgumentParser
import Engine
import Foundation

struct ShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show one VM's settings, and how it is doing while it runs.")

    @Argument(help: "The VM's name.")
    var name: String

    @Flag(help: "Print the config as JSON (the same format as config.json).")
    var json = false

    func run() throws {
        let library = VMLibrary()
        let config = try library.load(name: name)
        if json { try CLIOutput.json(config); return }
        print(config.name)
        let rows = liveRows(saved: config) + config.details(library: library) + [("Bundle", library.bundleURL(name: name).path)]
        for (label, value) in rows {
            print("  \(label.padding(toLength: 9, withPad: " ", startingAt: 0))\(value)")
        }
    }

    /// A running VM's state, per-CPU figures and I/O rates, as the TUI's detail pane shows them.
    private func liveRows(saved: VMConfig) -> [(String, String)] {
        guard let run = try? RunDirectory.standard(), run.status(name) == nil, run.record(name) != nil,
              let client = try? VMClient(name: name, run: run, timeout: .seconds(1)) else { return [] }
        defer { client.close() }
        // The state and stats follow the welcome.
        let deadline = Date().addingTimeInterval(1)
        while client.stats.uptimeNanoseconds == 0, client.state.isActive, Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        guard client.state.isActive else { return [] }
        return ConsoleScreen.liveRows(state: client.state, stats: client.stats, cpus: (run.startedConfig(name) ?? saved).cpuCount)
    }
}
