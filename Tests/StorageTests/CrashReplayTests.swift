import Foundation
import TestSupport
import Testing
@testable import Engine

/// Crash consistency at the image-file layer: every write and fsync the qcow2 and VDI code
/// issues is recorded; then every state a crash could leave is rebuilt — all windows before
/// some fsync completed, plus any prefix (and some reorderings) of the writes after it — and
/// each must pass qemu-img check (leaked clusters, exit 3, are acceptable, as QEMU treats them)
/// and hold every write the guest saw flushed.
@Suite(.enabled(if: Tools.haveQemu, "needs qemu-img (qemu-utils)"), .serialized)
struct CrashReplayTests {
    /// The events of one image file, in order.
    final class Recorder: @unchecked Sendable {
        private let lock = NSLock()
        private let path: String
        private(set) var events: [ImageFile.Event] = []
        init(path: String) { self.path = path }
        func record(_ event: ImageFile.Event) {
            guard event.path == path else { return }
            lock.lock(); events.append(event); lock.unlock()
        }
        var count: Int { lock.lock(); defer { lock.unlock() }; return events.count }
    }

    @Test(arguments: [VMConfig.DiskFormat.qcow2, .vdi])
    func everyCrashStateChecksCleanAndKeepsFlushedWrites(format: VMConfig.DiskFormat) throws {
        let dir = ScratchDirectory()
        let path = dir.file("disk.\(format.rawValue)")
        let size: UInt64 = 32 << 20
        let slot = format == .vdi ? 1 << 20 : 1 << 16 // a block or cluster per write: never rewritten
        do { _ = try DiskImage.create(path: path, format: format, size: size) }
        let initial = try Data(contentsOf: URL(fileURLWithPath: path))

        let recorder = Recorder(path: path)
        ImageFile.observer = { recorder.record($0) }
        defer { ImageFile.observer = nil }
        // (event count when the guest's flush returned, writes it made durable)
        var flushes: [(events: Int, writes: [(UInt64, [UInt8])])] = []
        var writes: [(UInt64, [UInt8])] = []
        var random = SeededRandom(seed: 17)
        do {
            let image = try DiskImage.open(path: path, readOnly: false)
            for index in 0..<24 {
                let offset = UInt64(index) * UInt64(slot) + UInt64((random.next() % 8)) * 512
                let data = (0..<(Int((random.next() % 16)) + 1) * 512).map { _ in UInt8(truncatingIfNeeded: (random.next() % 256)) }
                try image.write(at: offset, bytes: data)
                writes.append((offset, data))
                if index % 4 == 3 {
                    try image.flush()
                    flushes.append((recorder.count, writes))
                }
            }
        }
        ImageFile.observer = nil
        let events = recorder.events
        let syncs = events.indices.filter { if case .sync = events[$0] { true } else { false } }
        #expect(syncs.count >= flushes.count)

        var states = 0
        var windowStart = 0
        for end in syncs + [events.count] {
            let window = Array(windowStart..<end)
            // Any prefix of the window may have reached the disk, and (some) reorderings of it.
            var subsets: [[Int]] = (0...window.count).map { Array(window.prefix($0)) }
            for _ in 0..<2 where window.count > 2 {
                subsets.append(window.filter { _ in (random.next() % 2) == 0 })
            }
            for subset in subsets {
                var file = initial
                for i in Array(0..<windowStart) + subset { apply(events[i], to: &file) }
                let crashed = dir.file("crashed.\(format.rawValue)")
                try file.write(to: URL(fileURLWithPath: crashed))
                let check = try runHostProgram(Tools.qemuImg, ["check", "-f", format.rawValue, crashed])
                #expect(check.status == 0 || check.status == 3, "state \(states) (window at event \(windowStart)): \(check.output)")
                let durable = flushes.last(where: { $0.events <= windowStart })?.writes ?? []
                let image = try DiskImage.open(path: crashed, readOnly: true)
                for (offset, data) in durable {
                    #expect(byteMismatch(try image.read(at: offset, count: data.count), data) == nil, "state \(states): flushed write at \(offset) lost")
                }
                states += 1
            }
            windowStart = end + 1
        }
        #expect(states > 20)
    }

    private func apply(_ event: ImageFile.Event, to file: inout Data) {
        switch event {
        case .write(_, let offset, let bytes):
            let end = Int(offset) + bytes.count
            if file.count < end { file.append(Data(count: end - file.count)) }
            file.replaceSubrange(Int(offset)..<end, with: bytes)
        case .setLength(_, let length):
            if file.count < Int(length) { file.append(Data(count: Int(length) - file.count)) } else { file.count = Int(length) }
        case .punchHole(_, let offset, let count):
            let end = min(file.count, Int(offset + count))
            if Int(offset) < end { file.replaceSubrange(Int(offset)..<end, with: Data(count: end - Int(offset))) }
        case .sync:
            break
        }
    }
}
