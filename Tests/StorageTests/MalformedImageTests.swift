import Foundation
import TestSupport
import Testing
@testable import Engine

/// Hostile and broken images: each must be refused with a StorageError that names the file and
/// the problem; never a crash, a hang, a huge allocation or a read outside the file.
@Suite struct MalformedImageTests {
    // MARK: - Building blocks

    private static func be(_ value: UInt64, _ width: Int) -> [UInt8] {
        (0..<width).map { UInt8(truncatingIfNeeded: value >> UInt64(8 * (width - 1 - $0))) }
    }

    private static func le(_ value: UInt64, _ width: Int) -> [UInt8] {
        (0..<width).map { UInt8(truncatingIfNeeded: value >> UInt64(8 * $0)) }
    }

    private func patch(_ path: String, at offset: UInt64, _ bytes: [UInt8]) throws {
        let handle = try #require(FileHandle(forUpdatingAtPath: path))
        try handle.seek(toOffset: offset)
        try handle.write(contentsOf: Data(bytes))
        try handle.close()
    }

    private func field(_ path: String, at offset: Int, width: Int) throws -> UInt64 {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        return data[offset..<(offset + width)].reduce(0) { $0 << 8 | UInt64($1) }
    }

    /// A small valid qcow2 image (64 KiB clusters) with data in its first two clusters.
    private func validQCOW2(_ dir: ScratchDirectory, _ name: String = "bad.qcow2") throws -> String {
        let path = dir.file(name)
        let image = try DiskImage.create(path: path, format: .qcow2, size: 8 << 20)
        try image.write(at: 0, bytes: [UInt8](repeating: 0x5A, count: 128 << 10))
        try image.flush()
        return path
    }

    private func validVDI(_ dir: ScratchDirectory) throws -> String {
        let path = dir.file("bad.vdi")
        let image = try DiskImage.create(path: path, format: .vdi, size: 8 << 20)
        try image.write(at: 0, bytes: [UInt8](repeating: 0x5A, count: 3 << 20))
        try image.flush()
        return path
    }

    /// Opening (and reading everything) must fail with a StorageError about `path` mentioning `problem`.
    private func expectRefused(_ path: String, _ problem: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let error = #expect(throws: StorageError.self, sourceLocation: sourceLocation) {
            let image = try DiskImage.open(path: path, readOnly: true)
            _ = try image.read(at: 0, count: Int(min(image.size, 1 << 20)))
        }
        #expect(error?.path == path, sourceLocation: sourceLocation)
        #expect(error?.problem.contains(problem) == true, "\(error?.description ?? "no error") should mention '\(problem)'",
                sourceLocation: sourceLocation)
    }

    // MARK: - qcow2 header and tables

    @Test func truncatedQCOW2Files() throws {
        let dir = ScratchDirectory()
        for (length, problem) in [(10, "truncated"), (71, "truncated"), (100, "truncated"),
                                  (70_000, "outside the file"), (200_000, "outside the file")] {
            let path = try validQCOW2(dir, "cut\(length).qcow2")
            try #require(truncate(path, off_t(length)) == 0)
            expectRefused(path, problem)
        }
    }

    @Test func impossibleQCOW2HeaderFields() throws {
        let dir = ScratchDirectory()
        let cases: [(offset: UInt64, bytes: [UInt8], problem: String)] = [
            (4, Self.be(1, 4), "version 1"),
            (4, Self.be(4, 4), "version 4"),
            (20, Self.be(8, 4), "cluster_bits 8"),
            (20, Self.be(22, 4), "cluster_bits 22"),
            (20, Self.be(0xFFFF_FFFF, 4), "cluster_bits"),
            (24, Self.be(1 << 60, 8), "too large"),
            (24, Self.be(UInt64.max, 8), "too large"),
            (32, Self.be(1, 4), "encrypted"),
            (36, Self.be(0xFFFF_FFFF, 4), "L1 table"),
            (36, Self.be(0, 4), "needs 1"),
            (40, Self.be(0x7FFF_0000, 8), "outside the file"),
            (40, Self.be(0x10001, 8), "cluster boundary"),
            (40, Self.be(0, 8), "cluster boundary"),
            (48, Self.be(0x30000, 8), "overlapping metadata"),  // refcount table on top of the L1 table
            (56, Self.be(0xFFFF_FFFF, 4), "refcount table"),
            (56, Self.be(0, 4), "refcount table"),
            (60, Self.be(1 << 30, 4), "snapshots"),
            (72, Self.be(1 << 10, 8), "bit 10"),
            (72, Self.be(1 << 4, 8), "extended L2 entries"),  // named from the feature table when present
            (72, Self.be(1 << 2, 8), "bit 2"),
            (96, Self.be(7, 4), "refcount_order 7"),
            (100, Self.be(0xFFFF_FFF0, 4), "header_length"),
            (100, Self.be(13, 4), "header_length"),
            (104, Self.be(0xE279_2ACA, 4) + Self.be(0xFFFF_FFF0, 4), "runs past the header cluster"),
            (8, Self.be(0xFFF0, 8) + Self.be(500, 4), "backing file name"),
        ]
        for (index, c) in cases.enumerated() {
            let path = try validQCOW2(dir, "header\(index).qcow2")
            if c.offset == 72 && c.problem == "extended L2 entries" {
                // Add a feature name table so the message can name the bit, as QEMU's images do.
                var table = Self.be(0x6803_F857, 4) + Self.be(48, 4) + [0, 4]
                table += Array("extended L2 entries".utf8) + [UInt8](repeating: 0, count: 46 - 19)
                try patch(path, at: 104, table)
            }
            try patch(path, at: c.offset, c.bytes)
            expectRefused(path, c.problem)
        }
    }

    @Test func dirtyAndCorruptImagesOpenOnlyReadOnly() throws {
        let dir = ScratchDirectory()
        for (bit, word) in [(UInt64(1), "dirty"), (UInt64(2), "corrupt")] {
            let path = try validQCOW2(dir, "\(word).qcow2")
            try patch(path, at: 72, Self.be(bit, 8))
            let error = #expect(throws: StorageError.self) { _ = try DiskImage.open(path: path, readOnly: false) }
            #expect(error?.problem.contains("qemu-img check -r all") == true)
            let image = try DiskImage.open(path: path, readOnly: true)
            #expect(try image.read(at: 0, count: 512) == [UInt8](repeating: 0x5A, count: 512))
        }
    }

    @Test func tablesPointingAtTheWrongPlaces() throws {
        let dir = ScratchDirectory()
        let sample = try validQCOW2(dir, "sample.qcow2")
        let l1 = try field(sample, at: 40, width: 8)
        let l2 = try field(sample, at: Int(l1), width: 8) & 0x00FF_FFFF_FFFF_FE00
        let reftable = try field(sample, at: 48, width: 8)
        let firstData = try field(sample, at: Int(l2), width: 8)
        let copied: UInt64 = 1 << 63
        let cases: [(offset: UInt64, value: UInt64, problem: String)] = [
            (l1, copied | 0x7FFF_0000, "outside the file"),                   // L2 table past the end
            (l1, copied | reftable, "overlapping metadata"),                  // L2 table = refcount table
            (l1, copied | 0, "overlapping metadata"),                         // reserved bits only: 0 is unallocated...
            (l1, copied | (l2 + 512), "not cluster aligned"),
            (l2, copied | 0x7FFF_0000, "past the end of the file"),           // data cluster past the end
            (l2, copied | l1, "overlapping metadata"),                        // data cluster = L1 table
            (l2, copied | l2, "overlapping metadata"),                        // data cluster = its own L2 table
            (l2, copied | 0x10200, "unaligned"),
            (l2 + 8, firstData, "overlapping data"),                         // two guest clusters, one host cluster
            (l2, (1 << 62) | 0x7FFF_FFFF_0000, "past the end of the file"),   // compressed, outside the file
            (l2, (1 << 62) | l2, "corrupt"),                                  // compressed, garbage data
            (reftable, l1, "overlapping metadata"),                           // refcount block = L1 table
            (reftable, 0x7FFF_0000, "outside the file"),
        ]
        for (index, c) in cases.enumerated() {
            let path = dir.file("tables\(index).qcow2")
            try FileManager.default.copyItem(atPath: sample, toPath: path)
            try patch(path, at: c.offset, Self.be(c.value, 8))
            if c.value == copied {
                // An L1 entry with only flag bits points nowhere: the cluster reads as unallocated.
                let image = try DiskImage.open(path: path, readOnly: true)
                #expect(try image.read(at: 0, count: 512) == [UInt8](repeating: 0, count: 512))
                continue
            }
            expectRefused(path, c.problem)
        }
    }

    @Test(.enabled(if: Tools.haveQemu, "qemu-img missing: apt-get install qemu-utils"))
    func snapshotMetadataIsCheckedAndKeptApartFromData() throws {
        let dir = ScratchDirectory()
        let sample = dir.file("snap.qcow2")
        try #require(try runHostProgram(Tools.qemuImg, ["create", "-q", "-f", "qcow2", sample, "1M"]).status == 0)
        try #require(try runHostProgram(Tools.qemuIO, ["-f", "qcow2", "-c", "write -P 3 0 128k", sample]).status == 0)
        try #require(try runHostProgram(Tools.qemuImg, ["snapshot", "-c", "one", sample]).status == 0)
        let l1 = try field(sample, at: 40, width: 8)
        let l2 = try field(sample, at: Int(l1), width: 8) & 0x00FF_FFFF_FFFF_FE00
        let snapshots = try field(sample, at: 64, width: 8)
        let snapshotL1 = try field(sample, at: Int(snapshots), width: 8)
        let cases: [(offset: UInt64, bytes: [UInt8], problem: String)] = [
            (60, Self.be(65536, 4), "past the end of the file"),              // more snapshots than the file holds
            (snapshots, Self.be(l1, 8), "overlapping metadata"),              // snapshot L1 = active L1
            (snapshots + 8, Self.be(0xFFFF_FFFF, 4), "limit"),                // absurd snapshot L1 size
            (l2, Self.be(1 << 63 | snapshotL1, 8), "overlapping metadata"),   // guest data on the snapshot's L1
        ]
        for (index, c) in cases.enumerated() {
            let path = dir.file("snap\(index).qcow2")
            try FileManager.default.copyItem(atPath: sample, toPath: path)
            try patch(path, at: c.offset, c.bytes)
            expectRefused(path, c.problem)
        }
        let intact = try DiskImage.open(path: sample, readOnly: true)
        #expect(try intact.read(at: 0, count: 4096) == [UInt8](repeating: 3, count: 4096))
    }

    @Test func twoL1EntriesSharingOneL2TableAreRefused() throws {
        let dir = ScratchDirectory()
        let path = dir.file("shared.qcow2")
        do {
            let image = try DiskImage.create(path: path, format: .qcow2, size: 1 << 30)
            try image.write(at: 0, bytes: [UInt8](repeating: 1, count: 512))
            try image.flush()
        }
        let l1 = try field(path, at: 40, width: 8)
        let first = try field(path, at: Int(l1), width: 8)
        try patch(path, at: l1 + 8, Self.be(first, 8))
        expectRefused(path, "overlapping metadata")
    }

    @Test func backingFileLoopsEndInAnError() throws {
        let dir = ScratchDirectory()
        let path = dir.file("loop.qcow2")
        try DiskImage.create(path: path, format: .qcow2, size: 1 << 20).flush()
        // Point the image at itself as its backing file (name stored in the header cluster).
        let name = Array("loop.qcow2".utf8)
        try patch(path, at: 8, Self.be(512, 8) + Self.be(UInt64(name.count), 4))
        try patch(path, at: 512, name)
        let error = #expect(throws: StorageError.self) { _ = try DiskImage.open(path: path, readOnly: true) }
        #expect(error?.path == path)
        #expect(error?.problem.contains("backing") == true)
    }

    // MARK: - VDI

    @Test func impossibleVDIHeadersAndBlockMaps() throws {
        let dir = ScratchDirectory()
        let sample = try validVDI(dir)
        let cases: [(offset: UInt64, bytes: [UInt8], problem: String)] = [
            (0x44, Self.le(0x0001_0000, 4), "version 1.0"),
            (0x4C, Self.le(4, 4), "differencing"),
            (0x4C, Self.le(9, 4), "type 9"),
            (0x168, Self.le(4096, 4), "sector size"),
            (0x170, Self.le(1 << 60, 8), "larger than"),
            (0x178, Self.le(0, 4), "block size 0"),
            (0x178, Self.le(3 << 20, 4), "block size"),
            (0x178, Self.le(1 << 31, 4), "block size"),
            (0x17C, Self.le(16, 4), "extra data"),
            (0x180, Self.le(0xFFFF_FFFF, 4), "blocks"),
            (0x180, Self.le(0x3FFF_FFFF, 4), "block map"),
            (0x184, Self.le(1000, 4), "allocated blocks"),
            (0x154, Self.le(0, 4), "block map"),
            (0x158, Self.le(0x200, 4), "block map"),
            (0x200, Self.le(5000, 4), "past the"),             // block number past blocks_in_image
            (0x204, Self.le(0, 4), "overlapping"),             // two entries, one block
            (0x200, Self.le(7, 4), "past the end of the file"),
        ]
        for (index, c) in cases.enumerated() {
            let path = dir.file("vdi\(index).vdi")
            try FileManager.default.copyItem(atPath: sample, toPath: path)
            try patch(path, at: c.offset, c.bytes)
            expectRefused(path, c.problem)
        }
        let path = dir.file("short.vdi")
        try FileManager.default.copyItem(atPath: sample, toPath: path)
        try #require(truncate(path, 300) == 0)
        // 300 bytes still carry the VDI signature at 0x40, so it is a VDI, and a truncated one.
        expectRefused(path, "truncated")
    }

    @Test func foreignFormatsAreNamedNotMistakenForRaw() throws {
        let dir = ScratchDirectory()
        for (magic, name) in [("KDMV", "VMDK"), ("conectix", "VHD"), ("vhdxfile", "VHDX")] {
            let path = dir.file("disk.\(name.lowercased())")
            try Data(Array(magic.utf8) + [UInt8](repeating: 0, count: 1024)).write(to: URL(fileURLWithPath: path))
            expectRefused(path, "is a \(name) image")
        }
        expectRefused(dir.file("missing.qcow2"), "cannot open")
    }

    // MARK: - Random corruption

    /// Flips bytes in the metadata of valid images: whatever happens must be a StorageError.
    @Test(arguments: [VMConfig.DiskFormat.qcow2, .vdi])
    func randomlyCorruptedImagesFailCleanly(format: VMConfig.DiskFormat) throws {
        let dir = ScratchDirectory()
        let sample = format == .qcow2 ? try validQCOW2(dir, "sample.qcow2") : try validVDI(dir)
        let original = try Data(contentsOf: URL(fileURLWithPath: sample))
        let metadataBytes = format == .qcow2 ? 5 * 65536 : 0x300
        var rng = SeededRandom(seed: 2024)
        var refused = 0
        for round in 0..<300 {
            var bytes = [UInt8](original)
            for _ in 0..<Int.random(in: 1...8, using: &rng) {
                let at = Int.random(in: 0..<metadataBytes, using: &rng)
                bytes[at] = Int.random(in: 0..<3, using: &rng) == 0 ? 0xFF : UInt8.random(in: 0...255, using: &rng)
            }
            let path = dir.file("fuzz\(round).\(format.rawValue)")
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            do {
                let image = try DiskImage.open(path: path, readOnly: false)
                _ = try image.read(at: 0, count: Int(min(image.size, 4 << 20)))
                if image.size >= 1 << 20 {
                    try image.write(at: 512 * UInt64.random(in: 0..<(image.size / 512 - 8), using: &rng),
                                    bytes: [UInt8](repeating: 0xC3, count: 4096))
                }
                try image.flush()
            } catch {
                #expect(error.path == path)
                #expect(!error.problem.isEmpty)
                refused += 1
            }
            try? FileManager.default.removeItem(atPath: path)
        }
        // Most random corruption of headers and tables is detectable; none of it may crash us.
        #expect(refused > 0)
    }
}
