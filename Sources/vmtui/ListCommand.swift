import ArgumentParser
import Engine
import Foundation

struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List the virtual machines; running ones with their PID, uptime, CPU use, memory and disk and network rates.")

    @Flag(help: "Print JSON: name, state, for running VMs pid, uptime, CPU, memory and I/O rates, and for usable VMs the config.")
    var json = false

    struct Item: Encodable {
        var name: String
        var state: String
        var reason: String?
        var pid: Int32?
        var uptimeSeconds: Int?
        var cpuPercent: Double?
        var residentBytes: UInt64?
        /// Bytes per second over the VM's last stats window.
        var diskReadRate: Double?
        var diskWriteRate: Double?
        var networkReceiveRate: Double?
        var networkSendRate: Double?
        var config: VMConfig?
    }

    /// What the run directory says of one VM.
    struct Live {
        var state: String
        var pid: Int32?
        var uptimeSeconds: Int?
        var cpuPercent: Double?
        var residentBytes: UInt64?
        /// What the VM process measures itself (its disk and network rates).
        var stats: VMStats?
    }

    func run() throws {
        let library = VMLibrary()
        let entries = library.list()
        let live = liveStates()
        if json {
            try CLIOutput.json(entries.map { entry -> Item in
                switch entry {
                case let .vm(config):
                    let now = live[config.name]
                    return Item(name: config.name, state: now?.state ?? "stopped", pid: now?.pid, uptimeSeconds: now?.uptimeSeconds,
                                cpuPercent: now?.cpuPercent, residentBytes: now?.residentBytes,
                                diskReadRate: now?.stats?.diskReadRate, diskWriteRate: now?.stats?.diskWriteRate,
                                networkReceiveRate: now?.stats?.networkReceiveRate, networkSendRate: now?.stats?.networkSendRate,
                                config: config)
                case let .broken(name, reason): return Item(name: name, state: "broken", reason: reason)
                }
            })
            return
        }
        if entries.isEmpty {
            print("no VMs yet in \(library.vmsDirectory.path); create one with `vmtui create NAME` or in `vmtui`")
            return
        }
        // The process columns only while some VM runs: a library at rest keeps a narrow table.
        let running = live.values.contains { $0.pid != nil }
        let rows = entries.map { entry -> [String] in
            switch entry {
            case let .vm(c):
                let now = live[c.name]
                var process: [String] = []
                if running {
                    let pid: String = now?.pid.map { "\($0)" } ?? ""
                    let up: String = now?.uptimeSeconds.map(uptime) ?? ""
                    let cpu: String = now?.cpuPercent.map { String(format: "%.0f%%", $0) } ?? ""
                    let rss: String = now?.residentBytes.map { "\($0 >> 20) MiB" } ?? ""
                    let disk: String = now?.stats.map { "\(VMStats.rateText($0.diskReadRate)) / \(VMStats.rateText($0.diskWriteRate))" } ?? ""
                    let net: String = now?.stats.map { "\(VMStats.rateText($0.networkReceiveRate)) / \(VMStats.rateText($0.networkSendRate))" } ?? ""
                    process = [pid, up, cpu, rss, disk, net]
                }
                return [c.name, now?.state ?? "stopped"] + process + [c.modeShort, c.osLabel, "\(c.memoryMiB) MiB", c.networkSummary]
            case let .broken(name, _): return [name, "broken"] + Array(repeating: "", count: running ? 10 : 4)
            }
        }
        let header = ["NAME", "STATE"] + (running ? ["PID", "UPTIME", "CPU", "RSS", "DISK READ/WRITE", "NET IN/OUT"] : []) + ["MODE", "OS", "MEMORY", "NETWORK"]
        print(TextTable.render(header: header, rows: rows))
        // Why a VM is broken goes under the table: a long reason in a column would widen it for every row.
        for case let .broken(name, reason) in entries { print("\(name) is broken: \(reason)") }
    }

    /// Running VMs (CPU use over a quarter of a second, I/O rates from their stats) and those whose
    /// monitor reports how they ended.
    private func liveStates() -> [String: Live] {
        guard let run = try? RunDirectory.standard() else { return [:] }
        var live: [String: Live] = [:]
        var first: [String: (ProcessFigures, Date)] = [:]
        var clients: [String: VMClient] = [:]
        for name in run.names() {
            if let status = run.status(name) {
                live[name] = Live(state: status.crash.map { "crashed: \($0)" } ?? "stopped: \(status.state.label)")
            } else if let record = run.record(name), let figures = ProcessFigures(pid: record.pid) {
                first[name] = (figures, Date())
                live[name] = Live(state: "running", pid: record.pid, uptimeSeconds: Int(Date().timeIntervalSince1970 - record.started),
                                  residentBytes: figures.residentBytes)
                // The VM sends its state and stats right after the welcome: they have arrived after the
                // sleep below (a paused VM, by a user or a full host disk, says so there).
                clients[name] = try? VMClient(name: name, run: run, timeout: .seconds(1))
            }
        }
        guard !first.isEmpty else { return live }
        Thread.sleep(forTimeInterval: 0.25)
        for (name, (before, time)) in first {
            guard let pid = live[name]?.pid, let after = ProcessFigures(pid: pid) else { continue }
            let seconds = Double(after.cpuTicks &- before.cpuTicks) / ProcessFigures.ticksPerSecond
            live[name]?.cpuPercent = seconds / Date().timeIntervalSince(time) * 100
        }
        for (name, client) in clients {
            if client.state.isPaused { live[name]?.state = client.state.label }
            if client.isConnected, client.state.isActive { live[name]?.stats = client.stats }
            client.close()
        }
        return live
    }

    private func uptime(_ seconds: Int) -> String {
        String(format: "%d:%02d:%02d", seconds / 3600, seconds / 60 % 60, seconds % 60)
    }
}
