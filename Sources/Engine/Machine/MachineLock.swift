#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// The machine's one lock, as QEMU's big lock. The rule:
/// - Devices, the scheduler, the PIC and the Machine's own state are touched only with the lock
///   held. The thread running a vCPU holds it while the interpreter runs (the interpreter
///   reaches devices at every port or MMIO access) and releases it only while the vCPU is
///   halted (`wait`) or between slices (`yieldToWaiters`). A backend that waits in the kernel
///   (KVM_RUN) releases it around that wait and takes it again to handle the exit.
/// - Any other thread (host I/O, a test, a control socket) uses `Machine.withLock`, which kicks
///   the vCPUs first, so the lock comes within one instruction of the interpreter.
/// - Virtualize runs each vCPU on a thread of its own (VCPUThreads): it holds the lock only to
///   handle an exit, never inside KVM_RUN; the machine's thread keeps the timers and requests.
/// - `VCPU.kick()` and `Machine.wake()` need no lock; nothing else may be called without it.
/// Guest RAM is not covered: vCPUs and DMA share it as on real hardware.
public final class MachineLock: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    /// Signalled on `wake` and whenever a `withLock` ends, so a waiting vCPU thread re-checks.
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    /// Threads inside `withLock` that have not got the lock yet: the vCPU thread lets them first.
    private let waiting = Atomic<Int>(0)
    /// A wake since the last `wait` returned (protected by the lock).
    private var woken = false
    /// Called when another thread wants the lock: the machine kicks its vCPUs.
    var onContention: () -> Void = {}

    public init() {
        pthread_mutex_init(mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(condition, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    /// Takes the lock for the thread that runs the machine (no kick: it is that thread).
    public func lock() { pthread_mutex_lock(mutex) }
    public func unlock() { pthread_mutex_unlock(mutex) }

    /// Runs `body` with the lock, from any thread other than the one holding it.
    public func withLock<T>(_ body: () throws -> T) rethrows -> T {
        waiting.add(1, ordering: .sequentiallyConsistent)
        onContention()
        pthread_mutex_lock(mutex)
        waiting.subtract(1, ordering: .sequentiallyConsistent)
        defer {
            pthread_cond_broadcast(condition)
            pthread_mutex_unlock(mutex)
        }
        return try body()
    }

    /// Any thread without the lock (an input reader, a request queue): the machine's thread
    /// leaves its halted sleep, or its current slice, and looks at what changed.
    public func wake() { withLock { signalWake() } }

    /// With the lock held: a halted vCPU's sleep (or the next one) ends now.
    func signalWake() {
        woken = true
        pthread_cond_broadcast(condition)
    }

    /// With the lock held: sleeps, without the lock, until `signalWake` or host monotonic time
    /// `deadline` (ns); returns at once when a wake came since the last wait.
    func wait(untilHostTime deadline: UInt64) {
        var until = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
        while !woken, HostClock.monotonicNow() < deadline {
            pthread_cond_timedwait(condition, mutex, &until)
        }
        woken = false
    }

    /// With the lock held: sleeps, without the lock, until the next `signalWake`, `broadcast`
    /// or end of a `withLock` (the caller re-checks what it waits for).
    func waitForChange() { pthread_cond_wait(condition, mutex) }

    /// With the lock held: threads in `waitForChange` (and a halted vCPU's sleep) look again.
    func broadcast() { pthread_cond_broadcast(condition) }

    /// With the lock held, between slices: lets threads waiting in `withLock` go first.
    public func yieldToWaiters() {
        while waiting.load(ordering: .sequentiallyConsistent) > 0 { pthread_cond_wait(condition, mutex) }
    }
}
