import Foundation
import Testing
@testable import Engine

@Suite struct DiskImageTests {
    static let sizes: [(String, UInt64)] = [
        ("20G", 20 << 30), ("512M", 512 << 20), ("64KiB", 64 << 10), ("1.5G", 3 << 29),
        ("4096", 4096), ("2t", 2 << 40), (" 8M ", 8 << 20), ("1MB", 1 << 20),
    ]

    @Test(arguments: sizes)
    func sizesParse(text: String, bytes: UInt64) {
        #expect(DiskImage.parseSize(text) == bytes)
    }

    @Test(arguments: ["", "G", "12X", "-1G", "1.2.3G", "99999999999P", "1e9", "0x100"])
    func nonSizesAreRejected(text: String) {
        #expect(DiskImage.parseSize(text) == nil)
    }

    @Test func bigDisksCostAlmostNothingUntilWritten() throws {
        let dir = ScratchDirectory()
        for format in [VMConfig.DiskFormat.qcow2, .vdi, .raw] {
            let image = try DiskImage.create(path: dir.file("big.\(format.rawValue)"), format: format, size: 20 << 30)
            #expect(image.size == 20 << 30)
            #expect(image.info.allocatedBytes < 2 << 20, "\(format): \(image.info.allocatedBytes) bytes used")
            try image.write(at: 19 << 30, bytes: [UInt8](repeating: 9, count: 4096))
            try image.flush()
            #expect(image.info.allocatedBytes < 4 << 20, "\(format) after one write: \(image.info.allocatedBytes) bytes used")
            #expect(try image.read(at: 19 << 30, count: 4096) == [UInt8](repeating: 9, count: 4096))
        }
    }

    @Test func formatComesFromTheContentsNotTheName() throws {
        let dir = ScratchDirectory()
        try DiskImage.create(path: dir.file("really-qcow2.raw"), format: .qcow2, size: 1 << 20).flush()
        try DiskImage.create(path: dir.file("really-vdi.qcow2"), format: .vdi, size: 1 << 20).flush()
        try DiskImage.create(path: dir.file("really-raw.vdi"), format: .raw, size: 1 << 20).flush()
        #expect(try DiskImage.probe(path: dir.file("really-qcow2.raw")) == .qcow2)
        #expect(try DiskImage.open(path: dir.file("really-vdi.qcow2"), readOnly: true).format == .vdi)
        #expect(try DiskImage.open(path: dir.file("really-raw.vdi"), readOnly: true).format == .raw)
    }

    @Test func sizesThatAreNotWholeSectorsAreRefused() {
        let dir = ScratchDirectory()
        let error = #expect(throws: StorageError.self) { _ = try DiskImage.create(path: dir.file("odd.qcow2"), format: .qcow2, size: 1000) }
        #expect(error?.problem.contains("multiple of 512") == true)
    }

    @Test func conversionsBetweenAllFormatsKeepTheContents() throws {
        let dir = ScratchDirectory()
        let size: UInt64 = 6 << 20
        let expected: [UInt8]
        do {
            let source = try DiskImage.create(path: dir.file("start.qcow2"), format: .qcow2, size: size)
            let workload = DiskWorkload(seed: 31, diskSize: size, maxSectors: 128)
            for index in 0..<120 { try workload.perform(index, on: source) }
            try source.flush()
            expected = try source.readAll()
        }
        var previous = dir.file("start.qcow2")
        for (step, format) in [VMConfig.DiskFormat.vdi, .raw, .qcow2, .vdi].enumerated() {
            let next = dir.file("step\(step).\(format.rawValue)")
            let info = try DiskImage.convert(from: previous, to: next, format: format)
            #expect(info.format == format)
            #expect(info.virtualSize == size)
            #expect(firstDifferentSector(try DiskImage.open(path: next, readOnly: true).readAll(), expected) == nil, "\(previous) -> \(next)")
            previous = next
        }
        #expect(throws: StorageError.self) { _ = try DiskImage.convert(from: previous, to: previous, format: .raw) }
    }

    @Test func anImageIsLockedAgainstASecondWriter() throws {
        let dir = ScratchDirectory()
        let path = dir.file("locked.qcow2")
        let image = try DiskImage.create(path: path, format: .qcow2, size: 1 << 20)
        let error = #expect(throws: StorageError.self) { _ = try DiskImage.open(path: path, readOnly: false) }
        #expect(error?.problem.contains("in use") == true)
        try image.flush()
    }
}
