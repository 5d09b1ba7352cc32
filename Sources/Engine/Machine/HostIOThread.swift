#if canImport(Glibc)
import Glibc
#endif
import CLinuxHost
import Foundation

/// The VM process's host I/O thread: one poll(2) loop over registered descriptors (the TAP,
/// stdin, the control socket), per-iteration pollers (libslirp), one-shot timers on the host
/// monotonic clock, and closures queued with `perform` (an eventfd wakes the loop).
///
/// Handlers, pollers, timers and performed closures all run on this thread, one at a time, so
/// state they alone touch needs no lock. Device state is shared with the vCPU threads: a
/// handler that reaches a device takes the machine lock. Registering, performing and arming
/// timers are safe from any thread.
public final class HostIOThread: @unchecked Sendable {
    /// poll(2) readiness, as handlers receive it.
    public struct Events: OptionSet, Sendable {
        public let rawValue: Int16
        public init(rawValue: Int16) { self.rawValue = rawValue }
        public static let readable = Events(rawValue: Int16(POLLIN))
        public static let writable = Events(rawValue: Int16(POLLOUT))
        /// Hang-up or error: always reported, never asked for.
        public static let hangup = Events(rawValue: Int16(POLLHUP | POLLERR | POLLNVAL))
    }

    private struct Watch {
        var events: Events
        var handler: @Sendable (Events) -> Void
    }

    private let lock = NSLock()
    private var watches: [Int32: Watch] = [:]
    private var jobs: [@Sendable () -> Void] = []
    private var armed: [ObjectIdentifier: HostTimer] = [:]
    private var stopping = false
    private let wakeFD: Int32
    private var threadID: pthread_t?
    private let finished = DispatchSemaphore(value: 0)
    /// Touched only on the thread.
    private var pollers: [HostIOPoller] = []

    /// Starts the thread; `name` shows in `top -H` and debuggers (at most 15 characters).
    public init(name: String = "vmtui-io") throws {
        wakeFD = lh_eventfd()
        guard wakeFD >= 0 else {
            throw HostIOError("cannot create the I/O thread's eventfd (too many open files?)")
        }
        let started = DispatchSemaphore(value: 0)
        let thread = Thread { [self] in
            lock.withLock { threadID = pthread_self() }
            started.signal()
            run()
            finished.signal()
        }
        thread.name = String(name.prefix(15))
        thread.start()
        started.wait()
    }

    deinit { close(wakeFD) }

    /// Whether the caller is running on this I/O thread.
    public var isCurrent: Bool {
        lock.withLock { threadID.map { pthread_equal($0, pthread_self()) != 0 } ?? false }
    }

    // MARK: Descriptors

    /// Calls `handler` on the thread whenever `fd` is ready for `events` (or hangs up), until
    /// `unregister`. Registering the same descriptor again replaces its events and handler.
    public func register(_ fd: Int32, events: Events, handler: @escaping @Sendable (Events) -> Void) {
        lock.withLock { watches[fd] = Watch(events: events, handler: handler) }
        wake()
    }

    /// Changes what `fd` waits for (e.g. writable only while output is queued).
    public func update(_ fd: Int32, events: Events) {
        lock.withLock { watches[fd]?.events = events }
        wake()
    }

    /// Stops watching `fd`; its handler is not called after this returns on the thread, and at
    /// most once more (already dispatched) when called from elsewhere. The caller closes `fd`.
    public func unregister(_ fd: Int32) {
        _ = lock.withLock { watches.removeValue(forKey: fd) }
        wake()
    }

    // MARK: Work

    /// Runs `body` on the thread, after what is already queued.
    public func perform(_ body: @escaping @Sendable () -> Void) {
        lock.withLock { jobs.append(body) }
        wake()
    }

    /// Runs `body` on the thread and waits for it (directly when already on the thread).
    public func performAndWait<T, E: Error>(_ body: @escaping () throws(E) -> T) throws(E) -> T {
        if isCurrent { return try body() }
        // The caller waits until the thread has run `body` and filled `outcome`.
        nonisolated(unsafe) let work = body
        nonisolated(unsafe) var outcome: Result<T, E>?
        let done = DispatchSemaphore(value: 0)
        perform {
            outcome = Result { () throws(E) -> T in try work() }
            done.signal()
        }
        done.wait()
        return try outcome!.get()
    }

    /// Adds a poller asked for descriptors every iteration (from any thread; takes effect on the
    /// next iteration).
    public func addPoller(_ poller: HostIOPoller) {
        nonisolated(unsafe) let p = poller
        perform { [self] in pollers.append(p) }
    }

    public func removePoller(_ poller: HostIOPoller) {
        nonisolated(unsafe) let p = poller
        performAndWait { [self] in pollers.removeAll { $0 === p } }
    }

    // MARK: Timers

    /// A disarmed timer whose handler runs on this thread.
    public func makeTimer(_ handler: @escaping @Sendable () -> Void) -> HostTimer {
        HostTimer(thread: self, handler: handler)
    }

    func setDeadline(_ timer: HostTimer, _ deadline: UInt64?) {
        lock.withLock {
            timer.deadline = deadline
            if deadline == nil { armed.removeValue(forKey: ObjectIdentifier(timer)) } else { armed[ObjectIdentifier(timer)] = timer }
        }
        wake()
    }

    func deadline(of timer: HostTimer) -> UInt64? { lock.withLock { timer.deadline } }

    // MARK: Loop

    /// Ends the loop after its current iteration (and the work already queued) and waits for the thread to finish (when called
    /// on the thread, only asks it to end). Descriptors stay open: their owners close them.
    public func stop() {
        let alreadyStopping = lock.withLock { () -> Bool in
            defer { stopping = true }
            return stopping
        }
        guard !alreadyStopping else { return }
        wake()
        if !isCurrent { finished.wait() }
    }

    private func wake() {
        var one: UInt64 = 1
        _ = write(wakeFD, &one, 8)
    }

    private func run() {
        while true {
            let (work, snapshot, nextTimer, stop) = lock.withLock {
                defer { jobs.removeAll() }
                return (jobs, watches, armed.values.compactMap(\.deadline).min(), stopping)
            }
            for job in work { job() }
            if stop { break } // work queued before stop() has run
            if !work.isEmpty { continue } // jobs may have registered or armed something

            var set = HostPollSet()
            set.add(wakeFD, events: Int16(POLLIN))
            let watched = snapshot.map { (fd: $0.key, handler: $0.value.handler, index: set.add($0.key, events: $0.value.events.rawValue)) }
            let now = HostClock.monotonicNow()
            var timeout: UInt64? = nextTimer.map { $0 > now ? $0 - now : 0 }
            for poller in pollers { poller.prepare(&set, timeoutNanoseconds: &timeout) }
            // Round up, so a timer never wakes the loop just before it is due.
            let milliseconds = timeout.map { Int32(clamping: ($0 + 999_999) / 1_000_000) } ?? -1
            let count = set.wait(timeoutMilliseconds: milliseconds)

            if set.returnedEvents(at: 0) != 0 {
                var value: UInt64 = 0
                _ = read(wakeFD, &value, 8)
            }
            if count > 0 {
                for watch in watched {
                    let events = Events(rawValue: set.returnedEvents(at: watch.index))
                    guard !events.isEmpty, lock.withLock({ watches[watch.fd] != nil }) else { continue }
                    watch.handler(events)
                }
            }
            for poller in pollers { poller.dispatch(set, error: count < 0) }
            fireDueTimers()
        }
    }

    private func fireDueTimers() {
        let now = HostClock.monotonicNow()
        let due: [HostTimer] = lock.withLock {
            let due = armed.values.filter { ($0.deadline ?? .max) <= now }.sorted { $0.deadline! < $1.deadline! }
            for timer in due {
                timer.deadline = nil
                armed.removeValue(forKey: ObjectIdentifier(timer))
            }
            return due
        }
        for timer in due { timer.handler() }
    }
}
