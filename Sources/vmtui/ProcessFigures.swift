import Foundation

/// A process's CPU time and resident memory from /proc (for `vmtui list`).
struct ProcessFigures {
    /// utime + stime in clock ticks.
    var cpuTicks: UInt64
    var residentBytes: UInt64

    static let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))

    init?(pid: Int32) {
        // The command name in /proc/PID/stat may hold spaces: fields are counted after its ')'.
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = UInt64(fields[11]), let system = UInt64(fields[12]),
              let statm = try? String(contentsOfFile: "/proc/\(pid)/statm", encoding: .utf8),
              let pages = statm.split(separator: " ").dropFirst().first.flatMap({ UInt64($0) }) else { return nil }
        cpuTicks = user + system
        residentBytes = pages * UInt64(sysconf(Int32(_SC_PAGESIZE)))
    }
}
