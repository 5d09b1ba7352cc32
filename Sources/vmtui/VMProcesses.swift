import Engine
import Foundation

/// The running VMs this screen knows of, each its own process: the ones it started and every
/// other one with a socket in the run directory (started from another terminal or the CLI).
/// A VM that stopped or died keeps its last state here until it runs again.
final class VMProcesses {
    private(set) var byName: [String: VMClient] = [:]
    /// The settings the VMs started from this screen run with: edits saved since apply at the next start.
    private var startedWith: [String: VMConfig] = [:]
    /// nil when the run directory cannot be used; `runError` says why.
    let run: RunDirectory?
    let runError: String?
    private var scanned = Date.distantPast

    init() {
        do {
            run = try RunDirectory.standard()
            runError = nil
        } catch {
            run = nil
            runError = "\(error)"
        }
    }

    subscript(name: String) -> VMClient? { byName[name] }

    /// Starts the VM's process, or attaches to it when it already runs.
    func start(_ config: VMConfig) throws -> VMClient {
        guard let run else { throw CLIError(message: runError ?? "no run directory") }
        if let client = byName[config.name], client.isConnected, client.state.isActive { return client }
        let (client, started) = try VMLauncher.start(config.name, run: run)
        byName[config.name] = client
        if started { startedWith[config.name] = config }
        return client
    }

    /// The settings a running VM started from this screen runs with; nil when not running or
    /// started elsewhere.
    func runningConfig(_ name: String) -> VMConfig? {
        byName[name]?.state.isActive == true ? startedWith[name] : nil
    }

    var active: [VMClient] { byName.values.filter { $0.isConnected && $0.state.isActive } }

    /// Changes whenever any VM's screen, serial output, state or stats change, or one appears.
    var version: UInt64 {
        scan()
        return byName.values.reduce(UInt64(byName.count)) { $0 &+ $1.version }
    }

    /// Connects to VMs started elsewhere, twice a second at most.
    func scan() {
        guard let run, Date().timeIntervalSince(scanned) >= 0.5 else { return }
        scanned = Date()
        for name in run.names() where byName[name]?.isConnected != true && FileManager.default.fileExists(atPath: run.socket(name)) {
            if let client = try? VMClient(name: name, run: run, timeout: .seconds(1)) { byName[name] = client }
        }
    }

    /// Lets go of every VM (they keep running); returns the names of those still running.
    func detachAll() -> [String] {
        let running = active.map(\.name).sorted()
        for client in byName.values { client.close() }
        return running
    }
}
