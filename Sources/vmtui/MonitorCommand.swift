import ArgumentParser
import Engine
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `vmtui _monitor NAME` (hidden; its output goes to the VM's log): the small parent of one VM process, as podman's conmon is
/// for a container. Only a parent sees how a process died, so it starts the VM process, waits
/// for it, records its exit status or signal in NAME.status, removes the socket and the other
/// run files, and lingers a while so that clients and `vmtui list` can say what happened.
struct MonitorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "_monitor", abstract: "Run and watch one VM process.",
                                                    shouldDisplay: false)

    @Argument var name: String

    @Option(help: "Seconds NAME.status stays after the VM process ends.")
    var linger: Double = 10

    func run() throws {
        signal(SIGHUP, SIG_IGN)
        signal(SIGPIPE, SIG_IGN)
        let run = try RunDirectory.standard()
        let log = VMLibrary().bundleURL(name: name).appendingPathComponent("vm.log").path
        var childSignals = sigset_t()
        sigemptyset(&childSignals)
        sigaddset(&childSignals, SIGCHLD)
        pthread_sigmask(SIG_BLOCK, &childSignals, nil)
        let pid = try ProcessSpawner.spawn(["_vm", name], newSession: false, output: log)
        let record = RunRecord(pid: pid, monitorPID: getpid(), started: Date().timeIntervalSince1970)
        run.write(record, to: run.pidFile(name))

        var status: Int32 = 0
        while true {
            var second = timespec(tv_sec: 1, tv_nsec: 0)
            _ = sigtimedwait(&childSignals, nil, &second)
            let result = waitpid(pid, &status, WNOHANG)
            if result == pid || (result < 0 && errno != EINTR) { break }
            // logind removes the run directory at the last logout (no lingering): put it back.
            if access(run.pidFile(name), F_OK) != 0, (try? run.ensurePrivate()) != nil { run.write(record, to: run.pidFile(name)) }
        }
        // wait(2) status: the low 7 bits are the signal, 0 for a normal exit with its code above.
        let signal = status & 0x7F
        let ended = RunStatus(pid: pid, exitCode: signal == 0 ? (status >> 8) & 0xFF : nil, signal: signal == 0 ? nil : signal,
                              stop: run.stop(name))
        run.write(ended, to: run.statusFile(name))
        for file in [run.socket(name), run.pidFile(name), run.stopFile(name), run.configFile(name)] { unlink(file) }
        if let crash = ended.crash {
            FileHandle.standardError.write(Data("vmtui monitor: the VM process \(pid) \(crash)\n".utf8))
        }
        Thread.sleep(forTimeInterval: linger)
        if run.status(name)?.pid == pid { unlink(run.statusFile(name)) }
    }
}
