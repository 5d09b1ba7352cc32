import Testing
@testable import Engine

/// A failed fsync is not a full disk: the controllers report a stop naming the image and do
/// not keep the request for a retry.
@Suite struct FlushFailureTests {
    /// A disk whose flush fails as a failed fsync does.
    final class FsyncFailingDisk: BlockDevice {
        let size: UInt64 = 1 << 20
        let isReadOnly = false
        func read(at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(StorageError) {
            buffer.initializeMemory(as: UInt8.self, repeating: 0)
        }
        func write(at offset: UInt64, from buffer: UnsafeRawBufferPointer) throws(StorageError) {}
        func flush() throws(StorageError) {
            throw StorageError(path: "/images/disk.qcow2", problem: "fsync failed (Input/output error)", kind: .flushFailed)
        }
    }

    @Test func ahciReportsAFailedFsyncAndFailsTheCommand() throws {
        let rig = try AHCIRig(disk: FsyncFailingDisk())
        rig.startPort()
        rig.issue(AHCIRig.fis(0xEA))
        guard case .flushFailed(let path, let message) = rig.stops.first else {
            Issue.record("no flushFailed stop: \(rig.stops)")
            return
        }
        #expect(path == "/images/disk.qcow2" && message.contains("/images/disk.qcow2"))
        #expect(rig.port(0x10) & 0x4000_0000 != 0) // the command failed
        rig.ahci.retry()
        #expect(rig.stops.count == 1) // nothing kept to retry
    }

    @Test func virtioReportsAFailedFsyncAndCompletesWithIOError() throws {
        let rig = try VirtioBlockRig(disk: FsyncFailingDisk())
        rig.initialize()
        #expect(rig.request(type: 4, sector: 0) == 1)
        #expect(rig.usedIndex == 1)
        guard case .flushFailed = rig.stops.first else {
            Issue.record("no flushFailed stop: \(rig.stops)")
            return
        }
    }
}
