import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Starts this vmtui binary again with other arguments through posix_spawn (a threaded process
/// must never fork without exec): default signal handling and mask (descriptors vmtui opens are
/// close-on-exec, so the child inherits none but these), standard input from /dev/null, standard output and error to `output` (appended) or /dev/null.
enum ProcessSpawner {
    /// glibc's POSIX_SPAWN_SETSID (spawn.h declares it only under _GNU_SOURCE): the child gets a
    /// session of its own, so a closing terminal's SIGHUP never reaches it.
    private static let setsid: Int32 = 0x80

    static var executable: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    static func spawn(_ arguments: [String], newSession: Bool, output: String? = nil) throws -> pid_t {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var all = sigset_t(), none = sigset_t()
        sigfillset(&all)
        sigemptyset(&none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setsigmask(&attributes, &none)
        let flags = Int32(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK) | (newSession ? setsid : 0)
        posix_spawnattr_setflags(&attributes, Int16(flags))

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output ?? "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for arg in argv { free(arg) } }
        var pid = pid_t()
        let result = posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
        guard result == 0 else {
            throw CLIError(message: "cannot start \(executable): \(String(cString: strerror(result)))")
        }
        return pid
    }

    /// Reaps `pid` when it ends (on a thread of its own), so no zombie is left behind.
    static func reap(_ pid: pid_t) {
        let thread = Thread {
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0, errno == EINTR {}
        }
        thread.start()
    }
}
