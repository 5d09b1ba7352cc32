import Foundation
import TestSupport
import Testing
@testable import Engine

/// One image layout to exercise.
struct ImageKind: Sendable, CustomTestStringConvertible {
    let name: String
    let format: VMConfig.DiskFormat
    let options: DiskCreateOptions
    let size: UInt64
    var testDescription: String { name }

    static let all = [
        ImageKind(name: "qcow2 v3", format: .qcow2, options: DiskCreateOptions(), size: 32 << 20),
        ImageKind(name: "qcow2 v2", format: .qcow2, options: DiskCreateOptions(qcow2Version: 2), size: 32 << 20),
        // 512-byte clusters: the refcount table must grow and move while the guest writes.
        ImageKind(name: "qcow2 512-byte clusters", format: .qcow2, options: DiskCreateOptions(qcow2ClusterSize: 512), size: 8 << 20),
        ImageKind(name: "qcow2 2 MiB clusters", format: .qcow2, options: DiskCreateOptions(qcow2ClusterSize: 2 << 20), size: 32 << 20),
        ImageKind(name: "vdi dynamic", format: .vdi, options: DiskCreateOptions(), size: 32 << 20),
        ImageKind(name: "vdi fixed", format: .vdi, options: DiskCreateOptions(preallocate: true), size: 16 << 20),
        ImageKind(name: "raw", format: .raw, options: DiskCreateOptions(), size: 32 << 20),
    ]
}

@Suite struct RandomWorkloadTests {
    /// Random writes (and reads checked on the way) mirrored into an in-memory disk.
    private func workload(_ image: any DiskImageFile, _ reference: inout [UInt8], _ rng: inout SeededRandom,
                          operations: Int, flushEvery: Int) throws {
        let sectors = Int(image.size / 512)
        for op in 0..<operations {
            let count = Int.random(in: 1...min(sectors, 300), using: &rng)
            let first = Int.random(in: 0...(sectors - count), using: &rng)
            let range = (first * 512)..<((first + count) * 512)
            if Int.random(in: 0..<4, using: &rng) == 0 {
                let got = try image.read(at: UInt64(range.lowerBound), count: range.count)
                #expect(Array(reference[range]) == got, "read of sectors \(first)..<\(first + count) after \(op) operations")
            } else {
                let fill = UInt64.random(in: 0...UInt64.max, using: &rng)
                var data = [UInt8](repeating: 0, count: range.count)
                data.withUnsafeMutableBytes { raw in
                    for i in stride(from: 0, to: raw.count, by: 8) { raw.storeBytes(of: fill &+ UInt64(i), toByteOffset: i, as: UInt64.self) }
                }
                try image.write(at: UInt64(range.lowerBound), bytes: data)
                reference.replaceSubrange(range, with: data)
            }
            if op % flushEvery == flushEvery - 1 { try image.flush() }
        }
    }

    @Test(arguments: ImageKind.all)
    func randomWritesReadBackBeforeAndAfterReopen(kind: ImageKind) throws {
        let dir = ScratchDirectory()
        let path = dir.file("disk.\(kind.format.rawValue)")
        var reference = [UInt8](repeating: 0, count: Int(kind.size))
        var rng = SeededRandom(seed: 42)
        do {
            let image = try DiskImage.create(path: path, format: kind.format, size: kind.size, options: kind.options)
            try workload(image, &reference, &rng, operations: 500, flushEvery: 37)
            #expect(firstDifferentSector(try image.readAll(), reference) == nil)
            try image.flush()
        }
        do {
            let image = try DiskImage.open(path: path, readOnly: false)
            #expect(image.format == kind.format)
            #expect(image.size == kind.size)
            #expect(firstDifferentSector(try image.readAll(), reference) == nil)
            // No flush before closing this time: closing writes the tables back.
            try workload(image, &reference, &rng, operations: 200, flushEvery: 1000)
        }
        let reopened = try DiskImage.open(path: path, readOnly: true)
        #expect(firstDifferentSector(try reopened.readAll(), reference) == nil)
        if Tools.haveQemu && kind.format != .raw {
            let check = try runHostProgram(Tools.qemuImg, ["check", "-f", kind.format.rawValue, path])
            #expect(check.status == 0, "qemu-img check: \(check.output)")
        }
    }

    @Test(arguments: ImageKind.all)
    func growKeepsDataAndZeroesTheNewPart(kind: ImageKind) throws {
        let dir = ScratchDirectory()
        let path = dir.file("grow.\(kind.format.rawValue)")
        let pattern = (0..<4096).map { UInt8(truncatingIfNeeded: $0 * 7 + 1) }
        do {
            let image = try DiskImage.create(path: path, format: kind.format, size: 4 << 20, options: kind.options)
            try image.write(at: (4 << 20) - 4096, bytes: pattern)
            try image.resize(to: 12 << 20)
            #expect(image.size == 12 << 20)
            try image.write(at: (12 << 20) - 4096, bytes: pattern)
            try image.flush()
            #expect(throws: StorageError.self) { try image.resize(to: 8 << 20) }
        }

        let reopened = try DiskImage.open(path: path, readOnly: true)
        #expect(reopened.size == 12 << 20)
        #expect(try reopened.read(at: (4 << 20) - 4096, count: 4096) == pattern)
        #expect(try reopened.read(at: 4 << 20, count: 8192) == [UInt8](repeating: 0, count: 8192))
        #expect(try reopened.read(at: (12 << 20) - 4096, count: 4096) == pattern)
        if Tools.haveQemu && kind.format != .raw {
            let info = try runHostProgram(Tools.qemuImg, ["info", "-f", kind.format.rawValue, path])
            #expect(info.output.contains("12 MiB"), "qemu-img info: \(info.output)")
        }
    }

    @Test func accessesPastTheEndAndWritesToReadOnlyImagesAreRefused() throws {
        let dir = ScratchDirectory()
        for format in VMConfig.DiskFormat.allCases {
            let path = dir.file("small.\(format.rawValue)")
            let image = try DiskImage.create(path: path, format: format, size: 1 << 20)
            #expect(throws: StorageError.self) { try image.read(at: (1 << 20) - 512, count: 1024) }
            #expect(throws: StorageError.self) { try image.write(at: UInt64.max - 511, bytes: [UInt8](repeating: 1, count: 512)) }
            try image.flush()
        }
        let readOnly = try DiskImage.open(path: dir.file("small.qcow2"), readOnly: true)
        let error = #expect(throws: StorageError.self) { try readOnly.write(at: 0, bytes: [UInt8](repeating: 1, count: 512)) }
        #expect(error?.problem.contains("read-only") == true)
    }
}
