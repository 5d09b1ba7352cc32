import Foundation
import TestSupport
import Testing
@testable import Engine

/// Images cross between qemu-img/qemu-io and vmtui in both directions.
@Suite(.enabled(if: Tools.haveQemu, "qemu-img/qemu-io missing: apt-get install qemu-utils"))
struct QemuInteropTests {
    /// qemu-io commands writing patterns (and zeroes, and compressed clusters where the format
    /// has them), applied to `reference` as well.
    private func qemuWrites(_ reference: inout [UInt8], seed: UInt64, zero: Bool, compressed: Bool) -> [String] {
        var rng = SeededRandom(seed: seed)
        var commands: [String] = []
        let sectors = reference.count / 512
        if compressed {
            // Compressed writes need whole, fresh clusters: do them first.
            for cluster in [1, 5, 9] {
                let pattern = UInt8(0x40 + cluster)
                commands += ["-c", "write -c -P \(pattern) \(cluster * 65536) 65536"]
                reference.replaceSubrange((cluster * 65536)..<((cluster + 1) * 65536), with: repeatElement(pattern, count: 65536))
            }
        }
        for _ in 0..<60 {
            let count = Int.random(in: 1...256, using: &rng)
            let first = Int.random(in: 0...(sectors - count), using: &rng)
            let range = (first * 512)..<((first + count) * 512)
            if zero && Int.random(in: 0..<5, using: &rng) == 0 {
                commands += ["-c", "write -z \(range.lowerBound) \(range.count)"]
                reference.replaceSubrange(range, with: repeatElement(0, count: range.count))
            } else {
                let pattern = UInt8.random(in: 1...255, using: &rng)
                commands += ["-c", "write -P \(pattern) \(range.lowerBound) \(range.count)"]
                reference.replaceSubrange(range, with: repeatElement(pattern, count: range.count))
            }
        }
        return commands
    }

    struct QemuVariant: Sendable, CustomTestStringConvertible {
        let name: String
        let format: String
        let options: [String]
        let zero: Bool
        let compressed: Bool
        var testDescription: String { name }
    }

    static let variants = [
        QemuVariant(name: "qcow2 v2 (compat=0.10)", format: "qcow2", options: ["-o", "compat=0.10"], zero: false, compressed: true),
        QemuVariant(name: "qcow2 v3", format: "qcow2", options: ["-o", "compat=1.1"], zero: true, compressed: true),
        QemuVariant(name: "qcow2 v3 4 KiB clusters, 64-bit refcounts", format: "qcow2",
                    options: ["-o", "cluster_size=4096,refcount_bits=64"], zero: true, compressed: false),
        QemuVariant(name: "qcow2 v3 1-bit refcounts", format: "qcow2", options: ["-o", "refcount_bits=1"], zero: true, compressed: false),
        QemuVariant(name: "vdi dynamic", format: "vdi", options: [], zero: false, compressed: false),
        QemuVariant(name: "vdi fixed", format: "vdi", options: ["-o", "static=on"], zero: false, compressed: false),
        QemuVariant(name: "raw", format: "raw", options: [], zero: false, compressed: false),
    ]

    @Test(arguments: variants)
    func qemuWrittenImagesReadBackIdentically(variant: QemuVariant) throws {
        let dir = ScratchDirectory()
        let path = dir.file("qemu.\(variant.format)")
        let size = 16 << 20
        let created = try runHostProgram(Tools.qemuImg, ["create", "-q", "-f", variant.format] + variant.options + [path, "\(size)"])
        try #require(created.status == 0, "qemu-img create: \(created.output)")
        var reference = [UInt8](repeating: 0, count: size)
        let commands = qemuWrites(&reference, seed: 9, zero: variant.zero, compressed: variant.compressed)
        let io = try runHostProgram(Tools.qemuIO, ["-f", variant.format] + commands + [path])
        try #require(io.status == 0 && !io.output.contains("error"), "qemu-io: \(io.output)")

        do { // vmtui closes the image (and drops its locks) before qemu-img opens it
            let image = try DiskImage.open(path: path, readOnly: false)
            #expect(image.format.rawValue == variant.format)
            #expect(firstDifferentSector(try image.readAll(), reference) == nil)

            // Now we write on top (into zero, compressed and shared clusters alike) and qemu reads it back.
            let workload = DiskWorkload(seed: 3, diskSize: UInt64(size), maxSectors: 200)
            let refImage = try DiskImage.create(path: dir.file("ref.raw"), format: .raw, size: UInt64(size))
            try refImage.write(at: 0, bytes: reference)
            for index in 0..<150 {
                try workload.perform(index, on: image)
                try workload.perform(index, on: refImage)
            }
            try image.flush()
            try refImage.flush()
        }
        if variant.format != "raw" {
            let check = try runHostProgram(Tools.qemuImg, ["check", "-f", variant.format, path])
            #expect(check.status == 0, "qemu-img check: \(check.output)")
        }
        let compare = try runHostProgram(Tools.qemuImg, ["compare", "-f", variant.format, "-F", "raw", path, dir.file("ref.raw")])
        #expect(compare.status == 0, "qemu-img compare: \(compare.output)")
    }

    @Test(arguments: [VMConfig.DiskFormat.qcow2, .vdi, .raw])
    func ourImagesPassQemuCheckAndCompare(format: VMConfig.DiskFormat) throws {
        let dir = ScratchDirectory()
        let path = dir.file("ours.\(format.rawValue)")
        let size: UInt64 = 24 << 20
        do { // vmtui closes the image (and drops its locks) before qemu-img opens it
            let image = try DiskImage.create(path: path, format: format, size: size)
            let reference = try DiskImage.create(path: dir.file("ref.raw"), format: .raw, size: size)
            let workload = DiskWorkload(seed: 11, diskSize: size, maxSectors: 300)
            for index in 0..<400 {
                try workload.perform(index, on: image)
                try workload.perform(index, on: reference)
                if index % 50 == 0 { try image.flush() }
            }
            try image.flush()
            try reference.flush()
        }
        if format != .raw {
            let check = try runHostProgram(Tools.qemuImg, ["check", "-f", format.rawValue, path])
            #expect(check.status == 0, "qemu-img check: \(check.output)")
        }
        let compare = try runHostProgram(Tools.qemuImg, ["compare", "-f", format.rawValue, "-F", "raw", path, dir.file("ref.raw")])
        #expect(compare.status == 0, "qemu-img compare: \(compare.output)")
        let info = try runHostProgram(Tools.qemuImg, ["info", "-f", format.rawValue, path])
        #expect(info.output.contains("virtual size: 24 MiB"), "qemu-img info: \(info.output)")
    }

    @Test func backingFileIsReadAndNeverWritten() throws {
        let dir = ScratchDirectory()
        let size = 8 << 20
        var base = [UInt8](repeating: 0, count: size)
        try #require(try runHostProgram(Tools.qemuImg, ["create", "-q", "-f", "qcow2", dir.file("base.qcow2"), "\(size)"]).status == 0)
        let baseWrites = qemuWrites(&base, seed: 5, zero: false, compressed: false)
        try #require(try runHostProgram(Tools.qemuIO, ["-f", "qcow2"] + baseWrites + [dir.file("base.qcow2")]).status == 0)
        let baseSum = try runHostProgram(Tools.qemuImg, ["convert", "-O", "raw", dir.file("base.qcow2"), dir.file("base-before.raw")])
        try #require(baseSum.status == 0)
        // A relative backing name: resolved next to the overlay, as QEMU does.
        let created = try runHostProgram(Tools.qemuImg, ["create", "-q", "-f", "qcow2", "-b", "base.qcow2", "-F", "qcow2", dir.file("overlay.qcow2")])
        try #require(created.status == 0, "qemu-img create: \(created.output)")
        var overlay = base
        let overlayWrites = qemuWrites(&overlay, seed: 6, zero: true, compressed: false)
        try #require(try runHostProgram(Tools.qemuIO, ["-f", "qcow2"] + overlayWrites + [dir.file("overlay.qcow2")]).status == 0)

        do { // vmtui closes the image (and drops its locks) before qemu-img opens it
            let image = try DiskImage.open(path: dir.file("overlay.qcow2"), readOnly: false)
            #expect(image.info.details.contains { $0.contains("backing file: base.qcow2") })
            #expect(firstDifferentSector(try image.readAll(), overlay) == nil)
            // Partial-cluster writes copy the rest of the cluster up from the backing file.
            let reference = try DiskImage.create(path: dir.file("ref.raw"), format: .raw, size: UInt64(size))
            try reference.write(at: 0, bytes: overlay)
            let workload = DiskWorkload(seed: 8, diskSize: UInt64(size), maxSectors: 64)
            for index in 0..<100 {
                try workload.perform(index, on: image)
                try workload.perform(index, on: reference)
            }
            try image.flush()
            try reference.flush()
        }
        #expect(try runHostProgram(Tools.qemuImg, ["check", dir.file("overlay.qcow2")]).status == 0)
        let compare = try runHostProgram(Tools.qemuImg, ["compare", "-F", "raw", dir.file("overlay.qcow2"), dir.file("ref.raw")])
        #expect(compare.status == 0, "overlay: \(compare.output)")
        let baseCompare = try runHostProgram(Tools.qemuImg, ["compare", "-F", "raw", dir.file("base.qcow2"), dir.file("base-before.raw")])
        #expect(baseCompare.status == 0, "base changed: \(baseCompare.output)")
    }

    @Test func internalSnapshotsSurviveOurWrites() throws {
        let dir = ScratchDirectory()
        let path = dir.file("snap.qcow2")
        let size = 8 << 20
        var contents = [UInt8](repeating: 0, count: size)
        try #require(try runHostProgram(Tools.qemuImg, ["create", "-q", "-f", "qcow2", path, "\(size)"]).status == 0)
        let writes = qemuWrites(&contents, seed: 12, zero: true, compressed: true)
        try #require(try runHostProgram(Tools.qemuIO, ["-f", "qcow2"] + writes + [path]).status == 0)
        try #require(try runHostProgram(Tools.qemuImg, ["snapshot", "-c", "before", path]).status == 0)
        try #require(try runHostProgram(Tools.qemuImg, ["convert", "-O", "raw", path, dir.file("before.raw")]).status == 0)

        let reference = try DiskImage.create(path: dir.file("after.raw"), format: .raw, size: UInt64(size))
        try reference.write(at: 0, bytes: contents)
        do {
            let image = try DiskImage.open(path: path, readOnly: false)
            #expect(image.info.details.contains("internal snapshots: 1"))
            let workload = DiskWorkload(seed: 13, diskSize: UInt64(size), maxSectors: 160)
            for index in 0..<200 {
                try workload.perform(index, on: image)
                try workload.perform(index, on: reference)
            }
            try image.flush()
            try reference.flush()
        }
        let check = try runHostProgram(Tools.qemuImg, ["check", path])
        #expect(check.status == 0, "qemu-img check: \(check.output)")
        #expect(try runHostProgram(Tools.qemuImg, ["snapshot", "-l", path]).output.contains("before"))
        let now = try runHostProgram(Tools.qemuImg, ["compare", "-F", "raw", path, dir.file("after.raw")])
        #expect(now.status == 0, "active image: \(now.output)")
        try #require(try runHostProgram(Tools.qemuImg, ["convert", "-l", "snapshot.name=before", "-O", "raw", path, dir.file("snapshot.raw")]).status == 0)
        let snapshot = try runHostProgram(Tools.qemuImg, ["compare", "-f", "raw", "-F", "raw", dir.file("snapshot.raw"), dir.file("before.raw")])
        #expect(snapshot.status == 0, "snapshot changed: \(snapshot.output)")
    }

    @Test func compressedImagesFromQemuImgConvert() throws {
        let dir = ScratchDirectory()
        let size: UInt64 = 4 << 20
        do { // closed before qemu-img opens it
            let source = try DiskImage.create(path: dir.file("plain.raw"), format: .raw, size: size)
            let workload = DiskWorkload(seed: 21, diskSize: size, maxSectors: 256)
            for index in 0..<80 { try workload.perform(index, on: source) }
            try source.flush()
        }
        let convert = try runHostProgram(Tools.qemuImg, ["convert", "-c", "-f", "raw", "-O", "qcow2", dir.file("plain.raw"), dir.file("packed.qcow2")])
        try #require(convert.status == 0, "qemu-img convert: \(convert.output)")
        let packed = try DiskImage.open(path: dir.file("packed.qcow2"), readOnly: true)
        let source = try DiskImage.open(path: dir.file("plain.raw"), readOnly: true)
        #expect(firstDifferentSector(try packed.readAll(), try source.readAll()) == nil)
    }
}
