import Foundation

/// NAME.pid: the VM process the monitor started, and when.
public struct RunRecord: Codable, Sendable {
    public var pid: Int32
    public var monitorPID: Int32
    /// Seconds since 1970.
    public var started: Double

    public init(pid: Int32, monitorPID: Int32, started: Double) {
        self.pid = pid
        self.monitorPID = monitorPID
        self.started = started
    }
}
