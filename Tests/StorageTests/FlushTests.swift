import Foundation
import Testing
import TestSupport
@testable import Engine

/// The guest's FLUSH CACHE (BlockDevice.flush) must reach the disk: strace watches the
/// `vmtui disk exercise` child, and every write to the image before a "flushed N" report must
/// be followed by an fsync of the image before that report.
@Suite(.enabled(if: Tools.vmtui != nil && FileManager.default.isExecutableFile(atPath: "/usr/bin/strace"),
                "needs the vmtui binary (swift build) and strace (apt-get install strace)"))
struct FlushTests {
    @Test(arguments: VMConfig.DiskFormat.allCases)
    func everyFlushIsAnFsyncAfterTheWrites(format: VMConfig.DiskFormat) throws {
        let dir = ScratchDirectory()
        let image = dir.file("flush.\(format.rawValue)")
        try DiskImage.create(path: image, format: format, size: 16 << 20).flush()
        let trace = dir.file("trace")
        let result = try runHostProgram("/usr/bin/strace", ["-f", "-o", trace, "-e", "trace=openat,pwrite64,write,fsync,fdatasync",
                                                 try #require(Tools.vmtui), "disk", "exercise", image,
                                                 "--limit", "40", "--flush-every", "8", "--max-sectors", "64"])
        try #require(result.status == 0, "strace/vmtui: \(result.output.suffix(400))")

        var fd: String?
        var unsynced = 0
        var writes = 0
        var flushes = 0
        for line in try String(contentsOfFile: trace, encoding: .utf8).split(separator: "\n") {
            if line.contains("openat("), line.contains("\"\(image)\""), line.contains("O_RDWR"),
               let number = line.split(separator: "=").last?.trimmingCharacters(in: .whitespaces) {
                fd = number
            }
            guard let fd else { continue }
            if line.contains("pwrite64(\(fd), ") {
                unsynced += 1
                writes += 1
            } else if line.contains("fsync(\(fd))") || line.contains("fdatasync(\(fd))") {
                unsynced = 0
            } else if line.contains("write(1, \"flushed") {
                #expect(unsynced == 0, "\(unsynced) writes not yet fsynced when the child reported: \(line)")
                flushes += 1
            }
        }
        #expect(fd != nil, "the trace never shows \(image) opened for writing")
        #expect(writes >= 40, "only \(writes) writes to the image were traced")
        #expect(flushes >= 5)
    }
}
