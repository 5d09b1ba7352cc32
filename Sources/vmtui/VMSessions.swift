import Engine
import Foundation

/// The VMs this vmtui process runs, by name. Each keeps running on its own engine thread while
/// the user looks at another one or at the library.
final class VMSessions {
    private(set) var byName: [String: VMSession] = [:]
    /// The settings each session was started with: edits saved since apply at the next start.
    private(set) var startedWith: [String: VMConfig] = [:]
    /// `--bios` style override for every VM (tests); nil uses each VM's firmware settings.
    var biosOverride: String?

    subscript(name: String) -> VMSession? { byName[name] }

    /// Starts `config` from its bundle; a VM that is still running is returned as it is.
    func start(_ config: VMConfig, bundle: URL) -> VMSession {
        if let running = byName[config.name], running.state.isActive { return running }
        let session = VMSession(config: config, baseDirectory: bundle.path, biosOverride: biosOverride)
        byName[config.name] = session
        startedWith[config.name] = config
        return session
    }

    var active: [VMSession] { byName.values.filter { $0.state.isActive } }

    /// A CD swapped in the console: the running VM has it now, so it is not a pending change.
    func runningISOChanged(_ name: String, to iso: String?) { startedWith[name]?.bootISO = iso }

    /// The settings a running VM runs with, or nil when it is not running.
    func runningConfig(_ name: String) -> VMConfig? {
        byName[name]?.state.isActive == true ? startedWith[name] : nil
    }

    /// Changes whenever any VM's screen, serial output, state or stats change.
    var version: UInt64 { byName.values.reduce(UInt64(byName.count)) { $0 &+ $1.version } }

    /// Cuts the power of every running VM and waits for their threads (disks are closed cleanly).
    func powerOffAll() {
        let running = active
        for session in running { session.powerOff() }
        for session in running { session.waitUntilStopped(timeout: .seconds(5)) }
    }
}
