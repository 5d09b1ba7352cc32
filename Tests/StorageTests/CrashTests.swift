import Foundation
import TestSupport
import Testing
@testable import Engine

/// A child process (`vmtui disk exercise`) writes at random and flushes now and then; we kill -9
/// it mid-flight. qemu-img check must find no corruption (leaks are allowed), and every write
/// acknowledged before the last flush must read back.
@Suite(.enabled(if: Tools.vmtui != nil && Tools.haveQemu, "needs the vmtui binary (swift build) and qemu-img (qemu-utils)"))
struct CrashTests {
    struct Progress {
        var flushed = 0
        var begun = -1
        mutating func scan(_ text: Substring) {
            for line in text.split(separator: "\n") {
                let parts = line.split(separator: " ")
                guard parts.count == 2, let n = Int(parts[1]) else { continue }
                if parts[0] == "flushed" { flushed = max(flushed, n) }
                if parts[0] == "begin" { begun = max(begun, n) }
            }
        }
    }

    /// Runs the child until it has flushed `flushes` times, lets it run a little longer, kills it.
    private func runAndKill(_ path: String, seed: UInt64, flushes: Int, delayMicroseconds: UInt32) throws -> Progress {
        let process = try HostProcess(try #require(Tools.vmtui),
                                      ["disk", "exercise", path, "--seed", "\(seed)", "--flush-every", "8", "--max-sectors", "256"],
                                      stdout: .pipe)
        var text = ""
        var progress = Progress()
        while progress.flushed < flushes * 8 {
            let data = process.readOutput()
            if data.isEmpty { break }  // the child died on its own
            text += String(decoding: data, as: UTF8.self)
            progress = Progress()
            progress.scan(text[...])
        }
        usleep(delayMicroseconds)
        process.kill(SIGKILL)
        text += process.finish().output
        progress = Progress()
        progress.scan(text[...])
        #expect(process.wait() == .signal(SIGKILL), "the child ended before it was killed:\n\(text.suffix(400))")
        return progress
    }

    @Test(arguments: [VMConfig.DiskFormat.qcow2, .vdi])
    func killDuringRandomWritesLosesNothingFlushed(format: VMConfig.DiskFormat) throws {
        let dir = ScratchDirectory()
        let path = dir.file("crash.\(format.rawValue)")
        let size: UInt64 = 32 << 20
        try DiskImage.create(path: path, format: format, size: size).flush()
        var baseline = [UInt8](repeating: 0, count: Int(size))
        var rng = SeededRandom(seed: 77)
        for round in 0..<4 {
            let seed = 1000 + UInt64(round)
            let progress = try runAndKill(path, seed: seed, flushes: Int.random(in: 2...6, using: &rng),
                                          delayMicroseconds: UInt32.random(in: 0...20_000, using: &rng))
            let check = try runHostProgram(Tools.qemuImg, ["check", "-f", format.rawValue, path])
            // 0: clean; 3: leaked clusters only. 2 would be corruption.
            #expect(check.status == 0 || check.status == 3, "round \(round): qemu-img check:\n\(check.output)")

            let image = try DiskImage.open(path: path, readOnly: true)
            let actual = try image.readAll()
            let workload = DiskWorkload(seed: seed, diskSize: size, maxSectors: 256)
            // For every sector: what the last durable write put there, and what later writes might have.
            var durable = baseline
            var maybe: [Int: [Int]] = [:]
            for index in 0...max(progress.begun, 0) where progress.begun >= 0 {
                let (offset, sectors) = workload.write(index)
                for s in 0..<sectors {
                    let sector = Int(offset / 512) + s
                    if index < progress.flushed {
                        durable.withUnsafeMutableBytes { raw in
                            let slot = UnsafeMutableRawBufferPointer(rebasing: raw[(sector * 512)..<((sector + 1) * 512)])
                            DiskWorkload.pattern(write: index, sectorAt: UInt64(sector * 512), into: slot)
                        }
                    } else {
                        maybe[sector, default: []].append(index)
                    }
                }
            }
            var lost = 0
            for sector in 0..<(Int(size) / 512) {
                let range = (sector * 512)..<((sector + 1) * 512)
                if actual[range] == durable[range] { continue }
                let candidates = maybe[sector] ?? []
                let matches = candidates.contains { index in
                    var expected = [UInt8](repeating: 0, count: 512)
                    expected.withUnsafeMutableBytes { DiskWorkload.pattern(write: index, sectorAt: UInt64(sector * 512), into: $0) }
                    return actual[range].elementsEqual(expected)
                }
                if !matches { lost += 1 }
            }
            #expect(progress.flushed >= 16, "round \(round): the child flushed only \(progress.flushed) writes")
            #expect(lost == 0, "round \(round): \(lost) sectors hold neither flushed data nor a later write (flushed \(progress.flushed), begun \(progress.begun))")
            baseline = actual
        }
    }

    /// A crash between writing refcounts and writing the clusters they count leaves refcounts past
    /// the end of the file; reopening must step over those clusters (a leak), not reuse them.
    @Test func refcountsPastTheEndOfTheFileAreNotReused() throws {
        let dir = ScratchDirectory()
        let path = dir.file("leak.qcow2")
        try DiskImage.create(path: path, format: .qcow2, size: 8 << 20).flush()
        let length = try #require(FileManager.default.attributesOfItem(atPath: path)[.size] as? UInt64)
        let nextCluster = (length + 65535) / 65536
        // The first refcount block is cluster 2; 16-bit entries.
        let handle = try #require(FileHandle(forUpdatingAtPath: path))
        try handle.seek(toOffset: 2 * 65536 + nextCluster * 2)
        try handle.write(contentsOf: Data([0, 1]))
        try handle.close()
        do {
            let image = try DiskImage.open(path: path, readOnly: false)
            try image.write(at: 0, bytes: [UInt8](repeating: 7, count: 65536))
            try image.flush()
        }
        let check = try runHostProgram(Tools.qemuImg, ["check", path])
        #expect(check.status == 3, "expected exactly a leak:\n\(check.output)")
        #expect(check.output.contains("1 leaked clusters"), "\(check.output)")
    }
}
