import Foundation
import TestSupport
import Testing
@testable import Engine

/// `vmtui set` killed with SIGKILL at random points while it rewrites config.json: whatever
/// moment the kill lands, the config must load and hold either the old or the new value.
@Test(.enabled(if: binaryBuilt, "needs .build/debug/vmtui (swift build)"))
func killedWriteLeavesOldOrNewConfig() throws {
    let vmtui = VMTUIProcess()
    #expect(try vmtui.run("create", "web", "--os", "linux", "--memory", "256", "--network", "none").status == 0)
    let library = VMLibrary(home: vmtui.home)
    // Spread the kills over the process's whole life (start-up, load, write, rename), measured
    // here because a loaded machine can make it several times slower.
    let started = ContinuousClock.now
    #expect(try vmtui.run("set", "web", "memory=320").status == 0)
    let lifetime = (ContinuousClock.now - started).components
    let lifetimeMicroseconds = UInt32(clamping: lifetime.seconds * 1_000_000 + lifetime.attoseconds / 1_000_000_000_000)
    var generator = SystemRandomNumberGenerator()
    var sawOld = false, sawNew = false
    for round in 0..<40 {
        let before = try library.load(name: "web").memoryMiB
        let target = before == 256 ? 384 : 256
        let process = try HostProcess(VMTUIProcess.binary.path, ["set", "web", "memory=\(target)"],
                                      environment: vmtui.environment, stdout: .null, stderr: .null)
        usleep(UInt32.random(in: 0...lifetimeMicroseconds + lifetimeMicroseconds / 4, using: &generator))
        process.kill(SIGKILL)
        process.wait()
        let after = try library.load(name: "web")
        #expect(after.memoryMiB == before || after.memoryMiB == target, "round \(round): \(after.memoryMiB)")
        if after.memoryMiB == before { sawOld = true } else { sawNew = true }
    }
    // Both outcomes happened, so the kills really landed before and after the rename.
    #expect(sawOld && sawNew)
}
