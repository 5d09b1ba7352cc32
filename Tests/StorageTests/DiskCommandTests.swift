import Foundation
import Testing
import TestSupport
@testable import Engine

/// `vmtui disk` through the built binary: output and exit codes (0 ok, 1 failure, 2 usage).
@Suite(.enabled(if: Tools.vmtui != nil, "needs the vmtui binary (swift build)"))
struct DiskCommandTests {
    private func vmtui(_ arguments: String...) throws -> (status: Int32, output: String) {
        try runHostProgram(try #require(Tools.vmtui), ["disk"] + arguments)
    }

    @Test func createInfoResizeConvert() throws {
        let dir = ScratchDirectory()
        let path = dir.file("cli.qcow2")
        let created = try vmtui("create", path, "--format", "qcow2", "--size", "20G")
        #expect(created.status == 0, "\(created.output)")
        let info = try vmtui("info", path)
        #expect(info.status == 0)
        #expect(info.output.contains("format: qcow2"))
        #expect(info.output.contains("virtual size: 20 GiB (21474836480 bytes)"))
        #expect(try vmtui("resize", path, "24G").status == 0)
        #expect(try vmtui("info", path).output.contains("virtual size: 24 GiB"))
        let converted = try vmtui("convert", path, dir.file("cli.vdi"), "--format", "vdi")
        #expect(converted.status == 0, "\(converted.output)")
        #expect(try DiskImage.open(path: dir.file("cli.vdi"), readOnly: true).size == 24 << 30)
    }

    @Test func mistakesInTheCommandLineExitWith2() throws {
        let dir = ScratchDirectory()
        let path = dir.file("x.qcow2")
        let badFormat = try vmtui("create", path, "--format", "vmdk", "--size", "1G")
        #expect(badFormat.status == 2)
        #expect(badFormat.output.contains("unknown format 'vmdk'"))
        #expect(try vmtui("create", path, "--format", "qcow2", "--size", "lots").status == 2)
        #expect(try vmtui("create", path, "--format", "qcow2", "--size", "1000").status == 2)
        #expect(try vmtui("create", path, "--format", "qcow2", "--size", "1G").status == 0)
        #expect(try vmtui("create", path, "--format", "qcow2", "--size", "1G").status == 2)  // exists
        let shrink = try vmtui("resize", path, "512M")
        #expect(shrink.status == 2)
        #expect(shrink.output.contains("shrinking"))
    }

    /// The benchmark's strided order (as qemu-img bench -S) visits every block once per pass.
    @Test func benchStepsThroughTheWholeDisk() throws {
        let dir = ScratchDirectory()
        let path = dir.file("bench.qcow2")
        #expect(try vmtui("create", path, "--format", "qcow2", "--size", "1M").status == 0)
        let bench = try vmtui("bench", path, "--write", "--step", "12K", "--count", "256")
        #expect(bench.status == 0, "\(bench.output)")
        #expect(bench.output.contains("strided write 4 KiB x 256: "), "\(bench.output)")
        #expect(try DiskImage.open(path: path, readOnly: true).readAll() == [UInt8](repeating: 0xA5, count: 1 << 20))
        #expect(try vmtui("bench", path, "--step", "5K").status == 2)
    }

    @Test func failuresExitWith1AndNameTheFile() throws {
        let dir = ScratchDirectory()
        let missing = try vmtui("info", dir.file("missing.qcow2"))
        #expect(missing.status == 1)
        #expect(missing.output.contains(dir.file("missing.qcow2")))
        let bad = dir.file("bad.qcow2")
        try Data([0x51, 0x46, 0x49, 0xFB, 0, 0, 0, 9] + [UInt8](repeating: 0, count: 200)).write(to: URL(fileURLWithPath: bad))
        let refused = try vmtui("info", bad)
        #expect(refused.status == 1)
        #expect(refused.output.contains("qcow2 version 9 is not supported"))
    }
}
