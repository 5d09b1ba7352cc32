import ArgumentParser
import Engine
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `vmtui _vm NAME` (hidden): one VM's process, started by its monitor. It owns the engine (a
/// `VMSession`), the disk images and their locks, and a lock on the bundle (so a VM without disks
/// is protected too), and serves the session on NAME.sock. SIGHUP and SIGPIPE are ignored (a
/// closed terminal or a vanished client must not stop a VM); SIGTERM presses the ACPI power
/// button, and the power is cut after the session's grace time (a second SIGTERM cuts it at once).
struct VMProcessCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "_vm", abstract: "Run one VM and serve its control socket.",
                                                    shouldDisplay: false)

    @Argument var name: String

    func run() throws {
        signal(SIGHUP, SIG_IGN)
        signal(SIGPIPE, SIG_IGN)
        // Blocked before any thread starts, so only the waiting thread below ever takes SIGTERM.
        var terminate = sigset_t()
        sigemptyset(&terminate)
        sigaddset(&terminate, SIGTERM)
        pthread_sigmask(SIG_BLOCK, &terminate, nil)

        let run = try RunDirectory.standard()
        let library = VMLibrary()
        let bundle = library.bundleURL(name: name)
        let config: VMConfig
        let lock: BundleLock
        do {
            config = try library.load(name: name)
            guard let held = try BundleLock.acquire(bundle: bundle) else {
                throw CLIError(message: "\(name) is already running in another process (its bundle \(bundle.path) is locked)")
            }
            lock = held
        } catch {
            fail("\(error)", run: run)
        }
        let listener: UnixSocket
        do { listener = try UnixSocket.listen(path: run.socket(name)) } catch { fail("\(error)", run: run) }
        VMProcessCommand.log("started (pid \(getpid()))")
        run.write(config, to: run.configFile(name))

        let session = VMSession(config: config, baseDirectory: bundle.path)
        var server = VMServer(session: session, listener: listener, log: VMProcessCommand.log)
        server.start()
        let signals = Thread { [terminate] in
            var waitFor = terminate
            var presses = 0
            var received: Int32 = 0
            while sigwait(&waitFor, &received) == 0 {
                presses += 1
                VMProcessCommand.log(presses == 1 ? "SIGTERM: pressing the power button" : "SIGTERM again: cutting the power")
                if presses == 1 { session.requestPowerOff() } else { session.powerOff() }
            }
        }
        signals.start()

        var checked = Date()
        while session.state.isActive {
            Thread.sleep(forTimeInterval: 0.05)
            guard Date().timeIntervalSince(checked) >= 2 else { continue }
            checked = Date()
            // logind removes the run directory at the last logout (no lingering): listen again.
            if access(run.socket(name), F_OK) != 0, (try? run.ensurePrivate()) != nil,
               let again = try? UnixSocket.listen(path: run.socket(name)) {
                VMProcessCommand.log("the control socket was removed: listening again at \(run.socket(name))")
                server.listener.shutdown()
                server = VMServer(session: session, listener: again, log: VMProcessCommand.log)
                server.start()
            }
        }
        let state = session.state
        VMProcessCommand.log("\(state)")
        if case .stopped(let stop) = state { run.write(stop, to: run.stopFile(name)) }
        // New clients find no socket; connected ones get the final state before the process ends.
        unlink(run.socket(name))
        Thread.sleep(forTimeInterval: 0.5)
        withExtendedLifetime(lock) {}
        Foundation.exit(0)
    }

    private func fail(_ message: String, run: RunDirectory) -> Never {
        VMProcessCommand.log(message)
        run.write(MachineStop.hostError(message), to: run.stopFile(name))
        Foundation.exit(1)
    }

    /// A line in the VM's log (its standard error is NAME.vmtui/vm.log).
    @Sendable static func log(_ line: String) {
        let time = ISO8601DateFormatter().string(from: Date())
        FileHandle.standardError.write(Data("\(time) \(line)\n".utf8))
    }
}
