import Engine
import Foundation

/// The running VMs this screen knows of, each its own process: the ones it started and every
/// other one with a socket in the run directory (started from another terminal or the CLI).
/// A VM that stopped or died keeps its last state here until it runs again.
final class VMProcesses {
    private(set) var byName: [String: VMClient] = [:]
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
        let client = try VMLauncher.start(config.name, run: run).client
        byName[config.name] = client
        return client
    }

    var active: [VMClient] { byName.values.filter { $0.isConnected && $0.state.isActive } }

    /// A CD swapped in the console: the running VM has it now, so it is not a pending change.
    func runningISOChanged(_ name: String, to iso: String?) {
        guard let run, var config = runningConfig(name) else { return }
        config.bootISO = iso
        run.write(config, to: run.configFile(name))
    }

    /// Plugs a running VM's network card into `network` and records it as what the VM runs
    /// with; waits up to 3 s for the VM's answer. nil when the VM is not running.
    func switchNetwork(_ name: String, to network: VMConfig.Network) -> VMSession.MediaNotice? {
        askRunning(name, network) { $0.switchNetwork(to: VMConfig.networkSetting(network)) }
    }

    /// Gives a running VM `network`'s port forwards at once and records them; as switchNetwork.
    func setPortForwards(_ name: String, to network: VMConfig.Network) -> VMSession.MediaNotice? {
        askRunning(name, network) { client in
            client.setPortForwards(network.portForwards.map { "\($0.proto.rawValue):\($0.hostPort):\($0.guestPort)" }
                .joined(separator: ","))
        }
    }

    /// Sends a network request to a running VM, records `network` as what it runs with, and
    /// waits up to 3 s for its answer in the network notice.
    private func askRunning(_ name: String, _ network: VMConfig.Network, _ ask: (VMClient) -> Void) -> VMSession.MediaNotice? {
        guard let run, let client = byName[name], client.isConnected, client.state.isActive else { return nil }
        let before = client.networkNotice
        ask(client)
        if var config = runningConfig(name) {
            config.network = network
            run.write(config, to: run.configFile(name))
        }
        let deadline = ContinuousClock.now + .seconds(3)
        while client.networkNotice == before, ContinuousClock.now < deadline { Thread.sleep(forTimeInterval: 0.01) }
        return client.networkNotice != before ? client.networkNotice
            : VMSession.MediaNotice(text: "\(name): network switch sent; the VM has not answered yet", isError: false)
    }

    /// The settings a running VM runs with (its process wrote them at start), or nil when it is
    /// not running: edits saved since apply at its next start.
    func runningConfig(_ name: String) -> VMConfig? {
        guard let client = byName[name], client.isConnected, client.state.isActive else { return nil }
        return run?.startedConfig(name)
    }

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
