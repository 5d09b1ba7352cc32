import CLinuxHost
import Foundation

/// A host program a test starts (qemu-img, nasm, ip, vmtui itself), by posix_spawn and waitpid.
/// Not Foundation's Process: its waitUntilExit spins a run loop waiting for a termination that
/// Foundation delivers from another thread, which is known to hang for good on Linux after
/// hundreds of runs from test threads under load; and its Pipe ends are inheritable, so a
/// child spawned meanwhile by a parallel test could hold another test's pipe open.
public final class HostProcess {
    public enum Input { case null, pipe }
    public enum Output { case inherit, null, pipe }
    public enum Termination: Equatable { case exit(Int32), signal(Int32) }

    private let pid: pid_t
    /// The write end of the child's standard input when it is `.pipe` (kept open, so a program
    /// reading it waits), closed with the process.
    private let input: Int32
    /// The read ends of its standard output and error when they are `.pipe` (stderr may share stdout's).
    private let output: Int32
    private let errors: Int32
    private var termination: Termination?

    /// `stderr: nil` sends standard error where standard output goes.
    public init(_ program: String, _ arguments: [String], environment: [String: String]? = nil,
                stdin: Input = .null, stdout: Output = .inherit, stderr: Output? = .inherit) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var parentEnds: [Int32] = [], childEnds: [Int32] = []
        defer { childEnds.forEach { close($0) } }
        func pipeEnds() throws -> (read: Int32, write: Int32) {
            var fds: [Int32] = [-1, -1]
            guard lh_pipe_cloexec(&fds) == 0 else { throw HostProgramError.spawn(program, errno) }
            return (fds[0], fds[1])
        }
        switch stdin {
        case .null:
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
            input = -1
        case .pipe:
            let ends = try pipeEnds()
            posix_spawn_file_actions_adddup2(&actions, ends.read, 0)
            input = ends.write; parentEnds.append(ends.write); childEnds.append(ends.read)
        }
        func connect(_ output: Output, to fd: Int32) throws -> Int32 {
            switch output {
            case .inherit: return -1
            case .null: posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", O_WRONLY, 0)
            case .pipe:
                let ends = try pipeEnds()
                posix_spawn_file_actions_adddup2(&actions, ends.write, fd)
                parentEnds.append(ends.read); childEnds.append(ends.write)
                return ends.read
            }
            return -1
        }
        do {
            output = try connect(stdout, to: 1)
            if let stderr {
                errors = try connect(stderr, to: 2)
            } else {
                posix_spawn_file_actions_adddup2(&actions, 1, 2)
                errors = -1
            }
        } catch {
            parentEnds.forEach { close($0) }
            throw error
        }
        // Default signal handling and nothing blocked: a test thread's mask must not reach the child.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t(), all = sigset_t()
        sigemptyset(&none); sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = ([program] + arguments).map { strdup($0) } + [nil]
        let env = (environment ?? ProcessInfo.processInfo.environment).map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + env).forEach { free($0) } }
        var child: pid_t = 0
        let result = posix_spawn(&child, program, &actions, &attributes, argv, env)
        guard result == 0 else {
            parentEnds.forEach { close($0) }
            throw HostProgramError.spawn(program, result)
        }
        pid = child
    }

    deinit {
        if termination == nil { kill(SIGKILL) }
        _ = wait()
        for fd in [input, output, errors] where fd >= 0 { close(fd) }
    }

    public func kill(_ signal: Int32 = SIGKILL) {
        if termination == nil { _ = Glibc.kill(pid, signal) }
    }

    /// Waits for the child to end (once; later calls return the same answer).
    @discardableResult
    public func wait() -> Termination {
        if let termination { return termination }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let ended = HostProcess.termination(status)
        termination = ended
        return ended
    }

    /// What a waitpid status means (WIFEXITED and its friends are macros Swift cannot see).
    private static func termination(_ status: Int32) -> Termination {
        status & 0x7F == 0 ? .exit((status >> 8) & 0xFF) : .signal(status & 0x7F)
    }

    /// Waits at most `seconds` for the child to end; nil while it still runs.
    public func wait(seconds: Double) -> Termination? {
        let deadline = Date().addingTimeInterval(seconds)
        while termination == nil {
            var status: Int32 = 0
            let result = waitpid(pid, &status, WNOHANG)
            if result == pid {
                termination = HostProcess.termination(status)
            } else if result < 0 && errno != EINTR || Date() >= deadline {
                break
            } else {
                usleep(20_000)
            }
        }
        return termination
    }

    /// The exit status, or 128 + the signal that ended it, as a shell reports it.
    public var status: Int32 {
        switch wait() {
        case .exit(let code): return code
        case .signal(let signal): return 128 + signal
        }
    }

    /// Reads the `.pipe` outputs to their ends, both at once (a child blocked writing one while
    /// the other is read would never end), then waits for the child.
    public func finish() -> (output: String, errors: String) {
        var collected: [Int32: [UInt8]] = [:]
        var open = [output, errors].filter { $0 >= 0 }
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while !open.isEmpty {
            var fds = open.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            guard poll(&fds, nfds_t(fds.count), -1) >= 0 || errno == EINTR else { break }
            for entry in fds where entry.revents != 0 {
                let count = read(entry.fd, &buffer, buffer.count)
                if count > 0 {
                    collected[entry.fd, default: []] += buffer[0..<count]
                } else if count == 0 || errno != EINTR {
                    open.removeAll { $0 == entry.fd }
                }
            }
        }
        wait()
        return (String(decoding: collected[output] ?? [], as: UTF8.self), String(decoding: collected[errors] ?? [], as: UTF8.self))
    }

    /// The next bytes the output pipe brings, waiting for some; empty at its end.
    public func readOutput() -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        var count: Int
        repeat { count = read(output, &buffer, buffer.count) } while count < 0 && errno == EINTR
        return count > 0 ? Array(buffer[0..<count]) : []
    }
}

public enum HostProgramError: Error, CustomStringConvertible {
    case spawn(String, Int32)
    case assembler(String, String)
    public var description: String {
        switch self {
        case .spawn(let program, let error): return "cannot start \(program): \(String(cString: strerror(error)))"
        case .assembler(let source, let messages): return "nasm failed on \(source): \(messages)"
        }
    }
}

/// Runs a host program (qemu-img, mount, ip) to completion for a test; returns its exit status
/// and its standard output and error together.
@discardableResult
public func runHostProgram(_ program: String, _ arguments: [String], environment: [String: String]? = nil) throws -> (status: Int32, output: String) {
    let process = try HostProcess(program, arguments, environment: environment, stdout: .pipe, stderr: nil)
    let output = process.finish().output
    return (process.status, output)
}

/// Runs nasm on `source` into `output` (flat binary, `-i` the source's directory so includes
/// resolve); throws nasm's messages when it fails.
public func assemble(_ source: String, into output: String, defines: [String] = []) throws {
    let includes = URL(fileURLWithPath: source).deletingLastPathComponent().path + "/"
    let run = try runHostProgram(HostFiles.nasm, ["-f", "bin"] + defines.map { "-D" + $0 } + ["-i", includes, "-o", output, source])
    guard run.status == 0 else { throw HostProgramError.assembler(source, run.output) }
}

/// Assembles a test guest into a 1.44 MB floppy image at `image`.
public func assembleFloppy(_ source: String, into image: String, defines: [String] = []) throws {
    try assemble(source, into: image, defines: defines)
    guard truncate(image, 1_474_560) == 0 else { throw HostProgramError.assembler(source, "cannot pad \(image) to 1.44 MB") }
}
