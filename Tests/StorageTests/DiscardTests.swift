import Foundation
import Testing
import TestSupport
@testable import Engine

/// Discard (TRIM) gives host space back and leaves images qemu-img finds clean and equal to
/// what the guest expects (discarded clusters read as zeros).
@Suite(.enabled(if: Tools.haveQemu, "needs qemu-img (qemu-utils)"))
struct DiscardTests {
    @Test(arguments: [("qcow2", DiskCreateOptions()), ("qcow2 v2", DiskCreateOptions(qcow2Version: 2)), ("raw", DiskCreateOptions())])
    func discardedClustersFreeSpaceAndReadAsZeros(name: String, options: DiskCreateOptions) throws {
        let dir = ScratchDirectory()
        let format: VMConfig.DiskFormat = name.hasPrefix("qcow2") ? .qcow2 : .raw
        let path = dir.file("disk")
        let size: UInt64 = 8 << 20
        var expected = [UInt8](repeating: 0, count: Int(size))
        do {
            let image = try DiskImage.create(path: path, format: format, size: size, options: options)
            #expect(image.supportsDiscard)
            let data = (0..<(2 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 1) }
            try image.write(at: 1 << 20, bytes: data)
            expected.replaceSubrange((1 << 20)..<(3 << 20), with: data)
            try image.flush()
            let before = image.info.allocatedBytes
            // 1 MiB from the middle of the data, starting half a cluster in: whole clusters are
            // released, the partial ones at either end may keep their data.
            let start = (1 << 20) + (1 << 19) + (1 << 15), end = start + (1 << 20)
            try image.discard(at: UInt64(start), count: UInt64(end - start))
            try image.flush()
            #expect(image.info.allocatedBytes + (1 << 19) < before, "\(name): \(before) -> \(image.info.allocatedBytes)")
            let whole = (start + (1 << 15))..<(end - (1 << 15))
            #expect(try image.readsAsZeros(at: UInt64(whole.lowerBound), count: whole.count))
            let now = try image.readAll()
            #expect(now[whole].allSatisfy { $0 == 0 })
            #expect(now[..<start] == expected[..<start])
            #expect(now[end...] == expected[end...])
        }
        if format == .qcow2 {
            let check = try runHostProgram(Tools.qemuImg, ["check", path])
            #expect(check.status == 0, "qemu-img check: \(check.output)")
        }
    }
}
