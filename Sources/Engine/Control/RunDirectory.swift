import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Where running VMs leave their run files: `$XDG_RUNTIME_DIR/vmtui/`, or `/tmp/vmtui-UID/` when
/// that is unset. Per VM: NAME.sock (the VM process's control socket), NAME.pid (the monitor's
/// record of the VM process), NAME.stop (why the engine stopped, from the VM process) and
/// NAME.status (how the process ended, from the monitor, kept while it lingers) and NAME.config
/// (the settings the VM process started with: edits saved since apply at its next start).
public struct RunDirectory: Sendable {
    public let path: String

    public init(path: String) { self.path = path }

    /// The user's run directory, created 0700 if missing; refused when another user owns it or
    /// others may enter it (a socket there could be replaced under us).
    public static func standard() throws -> RunDirectory {
        let environment = ProcessInfo.processInfo.environment
        let path: String
        if let runtime = environment["XDG_RUNTIME_DIR"], !runtime.isEmpty {
            path = runtime + "/vmtui"
            if mkdir(runtime, 0o700) != 0, errno != EEXIST {
                throw VMConfigError.io(path: runtime, reason: "XDG_RUNTIME_DIR cannot be created: \(String(cString: strerror(errno)))")
            }
        } else {
            path = "/tmp/vmtui-\(geteuid())"
        }
        let directory = RunDirectory(path: path)
        try directory.ensurePrivate()
        return directory
    }

    /// Creates the directory again when it vanished (logind at logout) and checks it is private.
    public func ensurePrivate() throws {
        if mkdir(path, 0o700) != 0, errno != EEXIST {
            throw VMConfigError.io(path: path, reason: "cannot create the run directory: \(String(cString: strerror(errno)))")
        }
        var info = stat()
        guard lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
            throw VMConfigError.io(path: path, reason: "the run directory is not a directory: remove it")
        }
        guard info.st_uid == geteuid() else {
            throw VMConfigError.io(path: path, reason: "the run directory belongs to uid \(info.st_uid), not to you (uid "
                + "\(geteuid())): remove it or set XDG_RUNTIME_DIR to a directory of your own")
        }
        guard info.st_mode & 0o077 == 0 else {
            throw VMConfigError.io(path: path, reason: "the run directory is open to other users (mode "
                + String(info.st_mode & 0o777, radix: 8) + "): chmod 700 \(path)")
        }
    }

    public func socket(_ name: String) -> String { "\(path)/\(name).sock" }
    public func pidFile(_ name: String) -> String { "\(path)/\(name).pid" }
    public func statusFile(_ name: String) -> String { "\(path)/\(name).status" }
    public func stopFile(_ name: String) -> String { "\(path)/\(name).stop" }
    public func configFile(_ name: String) -> String { "\(path)/\(name).config" }

    /// VMs with run files: running ones and those whose monitor is still reporting.
    public func names() -> [String] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        let suffixes = [".sock", ".pid", ".status"]
        return Set(files.compactMap { file in
            suffixes.first(where: file.hasSuffix).map { String(file.dropLast($0.count)) }
        }).sorted()
    }

    public func record(_ name: String) -> RunRecord? { RunDirectory.decode(RunRecord.self, pidFile(name)) }
    public func status(_ name: String) -> RunStatus? { RunDirectory.decode(RunStatus.self, statusFile(name)) }
    public func stop(_ name: String) -> MachineStop? { RunDirectory.decode(MachineStop.self, stopFile(name)) }
    public func startedConfig(_ name: String) -> VMConfig? { RunDirectory.decode(VMConfig.self, configFile(name)) }

    /// Writes `value` as JSON, atomically (readers never see half a file).
    public func write(_ value: some Encodable, to file: String) {
        guard let data = try? JSONEncoder().encode(value) else { return }
        try? data.write(to: URL(fileURLWithPath: file), options: .atomic)
    }

    static func decode<T: Decodable>(_ type: T.Type, _ file: String) -> T? {
        guard let data = FileManager.default.contents(atPath: file) else { return nil }
        return try? JSONDecoder().decode(type, from: data)
    }

    /// Said where VMs are started when logind will delete this directory at the user's last
    /// logout (no lingering): the VMs keep running and put their sockets back, but say how to avoid it.
    public var lingerAdvice: String? {
        guard path.hasPrefix("/run/user/"),
              let name = getpwuid(geteuid()).map({ String(cString: $0.pointee.pw_name) }),
              !FileManager.default.fileExists(atPath: "/var/lib/systemd/linger/\(name)") else { return nil }
        return "logind deletes \(path) when you log out: run `loginctl enable-linger` to keep it (VMs recreate their sockets within 2 s otherwise)"
    }
}
