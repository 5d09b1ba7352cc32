import Engine
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Starts a VM as its own process (a monitor in a session of its own, which starts the VM
/// process) and connects to it; a VM that is already running is attached instead.
enum VMLauncher {
    /// The client of NAME's VM process and whether this call started it.
    static func start(_ name: String, run: RunDirectory) throws -> (client: VMClient, started: Bool) {
        if let client = try? VMClient(name: name, run: run) { return (client, false) }
        // A VM that just stopped still holds its locks for a moment: wait for its monitor to see it end.
        let settled = Date().addingTimeInterval(3)
        while access(run.pidFile(name), F_OK) == 0, Date() < settled { Thread.sleep(forTimeInterval: 0.01) }
        // What a previous run's monitor left (it may still be lingering) is not about this one.
        unlink(run.statusFile(name))
        unlink(run.stopFile(name))
        let log = VMLibrary().bundleURL(name: name).appendingPathComponent("vm.log").path
        let monitor = try ProcessSpawner.spawn(["_monitor", name], newSession: true, output: log)
        ProcessSpawner.reap(monitor)
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline {
            if access(run.socket(name), F_OK) == 0, let client = try? VMClient(name: name, run: run) { return (client, true) }
            if let status = run.status(name) {
                throw CLIError(message: "\(name) did not start: \(status.state.description)"
                    + " (see \(VMLibrary().bundleURL(name: name).path)/vm.log)")
            }
            Thread.sleep(forTimeInterval: 0.01)
        }
        throw CLIError(message: "\(name) did not start within 15 s (see \(VMLibrary().bundleURL(name: name).path)/vm.log)")
    }

    /// The client of a running VM, or an error saying it is not running.
    static func attach(_ name: String, onSerial: (@Sendable ([UInt8]) -> Void)? = nil) throws -> VMClient {
        let run = try RunDirectory.standard()
        do { return try VMClient(name: name, run: run, onSerial: onSerial) } catch {
            guard VMLibrary().exists(name: name) else {
                throw VMConfigError.notFound(name: name, bundle: VMLibrary().bundleURL(name: name).path)
            }
            if access(run.socket(name), F_OK) != 0 {
                let ended = run.status(name).map { ": it \($0.crash.map { "crashed (\($0))" } ?? "\($0.state)")" } ?? ""
                throw CLIError(message: "\(name) is not running\(ended); start it with `vmtui start \(name)`")
            }
            throw CLIError(message: "\(error)")
        }
    }
}
