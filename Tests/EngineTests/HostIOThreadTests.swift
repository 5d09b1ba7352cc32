import Foundation
import Testing
@testable import Engine

/// The VM's host I/O thread: work performed on it, descriptors it watches, timers on the host
/// monotonic clock, per-iteration pollers, and stopping.
@Suite struct HostIOThreadTests {
    final class Box<T>: @unchecked Sendable {
        private let lock = NSLock()
        private var stored: T
        init(_ value: T) { stored = value }
        var value: T {
            get { lock.withLock { stored } }
            set { lock.withLock { stored = newValue } }
        }
    }

    func makePipe() -> (read: Int32, write: Int32) {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        return (fds[0], fds[1])
    }

    @Test func performRunsOnTheThreadInOrder() throws {
        let io = try HostIOThread(name: "test-io")
        defer { io.stop() }
        #expect(!io.isCurrent)
        let order = Box<[Int]>([])
        for i in 0..<5 { io.perform { order.value.append(i) } }
        let onThread = io.performAndWait { io.isCurrent }
        #expect(onThread)
        #expect(order.value == [0, 1, 2, 3, 4])
        #expect(io.performAndWait { 6 * 7 } == 42)
        struct Failure: Error {}
        #expect(throws: Failure.self) { try io.performAndWait { () throws(Failure) in throw Failure() } }
    }

    @Test func registeredDescriptorWakesItsHandler() throws {
        let io = try HostIOThread()
        defer { io.stop() }
        let (r, w) = makePipe()
        defer { close(r); close(w) }
        let received = Box<[UInt8]>([])
        let got = DispatchSemaphore(value: 0)
        io.register(r, events: .readable) { events in
            var buffer = [UInt8](repeating: 0, count: 16)
            let n = read(r, &buffer, 16)
            if n > 0 { received.value += buffer[0..<n] }
            if events.contains(.readable) { got.signal() }
        }
        _ = write(w, "hi", 2)
        #expect(got.wait(timeout: .now() + 5) == .success)
        #expect(received.value == Array("hi".utf8))
        // After unregistering, data waits unread.
        io.unregister(r)
        io.performAndWait {}
        _ = write(w, "x", 1)
        #expect(got.wait(timeout: .now() + 0.2) == .timedOut)
    }

    @Test func timersFireOnTheMonotonicClockAndCanBeCancelled() throws {
        let io = try HostIOThread()
        defer { io.stop() }
        let fired = Box<[String]>([])
        let done = DispatchSemaphore(value: 0)
        let start = HostClock.monotonicNow()
        let firedAt = Box<UInt64>(0)
        let late = io.makeTimer { fired.value.append("late"); firedAt.value = HostClock.monotonicNow(); done.signal() }
        let early = io.makeTimer { fired.value.append("early") }
        let cancelled = io.makeTimer { fired.value.append("cancelled") }
        late.arm(after: 60_000_000)
        early.arm(after: 20_000_000)
        cancelled.arm(after: 30_000_000)
        #expect(cancelled.isArmed)
        cancelled.cancel()
        #expect(!cancelled.isArmed)
        #expect(done.wait(timeout: .now() + 5) == .success)
        #expect(fired.value == ["early", "late"])
        #expect(firedAt.value - start >= 60_000_000)
        #expect(!late.isArmed)
        // Re-arming from the handler's own thread moves the timer.
        early.arm(at: HostClock.monotonicNow() + 1_000_000)
        io.performAndWait { late.arm(after: 1_000_000) }
        #expect(done.wait(timeout: .now() + 5) == .success)
        #expect(fired.value == ["early", "late", "early", "late"])
    }

    final class PipePoller: HostIOPoller, @unchecked Sendable {
        let fd: Int32
        var index = -1
        var sawReadable = DispatchSemaphore(value: 0)
        var prepared = 0
        init(fd: Int32) { self.fd = fd }
        func prepare(_ set: inout HostPollSet, timeoutNanoseconds: inout UInt64?) {
            prepared += 1
            index = set.add(fd, events: Int16(POLLIN))
            timeoutNanoseconds = min(timeoutNanoseconds ?? .max, 500_000_000)
        }
        func dispatch(_ set: HostPollSet, error: Bool) {
            if set.returnedEvents(at: index) & Int16(POLLIN) != 0 {
                var byte: UInt8 = 0
                _ = read(fd, &byte, 1)
                sawReadable.signal()
            }
        }
    }

    @Test func pollersAddDescriptorsEachIteration() throws {
        let io = try HostIOThread()
        defer { io.stop() }
        let (r, w) = makePipe()
        defer { close(r); close(w) }
        let poller = PipePoller(fd: r)
        io.addPoller(poller)
        _ = write(w, "a", 1)
        #expect(poller.sawReadable.wait(timeout: .now() + 5) == .success)
        io.removePoller(poller)
        let before = io.performAndWait { poller.prepared }
        _ = write(w, "b", 1)
        #expect(poller.sawReadable.wait(timeout: .now() + 0.2) == .timedOut)
        #expect(io.performAndWait { poller.prepared } == before)
    }

    @Test func stopEndsTheThread() throws {
        let io = try HostIOThread()
        let ran = Box(false)
        io.perform { ran.value = true }
        io.stop()
        #expect(ran.value)
        io.stop() // twice is harmless
    }
}
