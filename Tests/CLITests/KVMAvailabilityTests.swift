import Foundation
import Testing
@testable import Engine

/// A temporary directory for fake /dev and /sys/module trees.
private func scratchDirectory() throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("vmtui-kvm-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

// This machine's own /dev/kvm is kvm-pvm: the real probe must refuse it and say why.
@Test(.enabled(if: FileManager.default.fileExists(atPath: "/sys/module/kvm_pvm"), "only where kvm-pvm is loaded"))
func kvmPVMOnThisHostIsRefused() {
    let found = KVMAvailability.probe()
    #expect(found == .paravirtualOnly)
    #expect(found.explanation.contains("kvm-pvm"))
    #expect(found.explanation.contains("Emulate"))
}

@Test func kvmPVMModuleComesFirst() throws {
    let sys = try scratchDirectory()
    try FileManager.default.createDirectory(atPath: sys + "/kvm_pvm", withIntermediateDirectories: true)
    // Even with no device at all, kvm-pvm's module decides.
    #expect(KVMAvailability.probe(devicePath: sys + "/absent", moduleDirectory: sys) == .paravirtualOnly)
}

@Test func missingDeviceSaysHowToLoadKVM() throws {
    let sys = try scratchDirectory()
    let cpuinfo = sys + "/cpuinfo"
    try "processor\t: 0\nflags\t\t: fpu svm sse\n".write(toFile: cpuinfo, atomically: true, encoding: .utf8)
    let found = KVMAvailability.probe(devicePath: sys + "/kvm", moduleDirectory: sys, cpuinfoPath: cpuinfo)
    #expect(found == .missingDevice)
    #expect(found.explanation.contains("modprobe kvm_intel or kvm_amd"))
    try "processor\t: 0\nflags\t\t: fpu sse\n".write(toFile: cpuinfo, atomically: true, encoding: .utf8)
    let none = KVMAvailability.probe(devicePath: sys + "/kvm", moduleDirectory: sys, cpuinfoPath: cpuinfo)
    #expect(none == .noHardwareSupport)
    #expect(none.explanation.contains("vmx/svm"))
}

// root opens any file, so the real open(2) refusal is only seen as another user.
@Test(.enabled(if: getuid() != 0, "root bypasses file permissions"))
func unreadableDeviceIsNoPermission() throws {
    let sys = try scratchDirectory()
    let device = sys + "/kvm"
    try Data().write(to: URL(fileURLWithPath: device))
    chmod(device, 0)
    #expect(KVMAvailability.probe(devicePath: device, moduleDirectory: sys) == .noPermission(user: ProcessInfo.processInfo.environment["USER"] ?? "your user"))
}

@Test func permissionRefusalSaysRootOrGroupKVM() {
    let found = KVMAvailability.classify(openError: EACCES, cpuinfo: "", user: "ann")
    #expect(found == .noPermission(user: "ann"))
    #expect(found.explanation.contains("run as root"))
    #expect(found.explanation.contains("usermod -aG kvm ann"))
    #expect(KVMAvailability.classify(openError: EPERM, cpuinfo: "", user: "ann") == .noPermission(user: "ann"))
}

@Test func aFileThatIsNotKVMIsNamed() throws {
    let sys = try scratchDirectory()
    let device = sys + "/kvm"
    try Data().write(to: URL(fileURLWithPath: device))
    let found = KVMAvailability.probe(devicePath: device, moduleDirectory: sys)
    guard case let .notKVM(reason) = found else { Issue.record("got \(found)"); return }
    #expect(reason.contains("KVM_GET_API_VERSION"))
    #expect(reason.contains(device))
}

@Test func otherAPIVersionAndBusyHypervisorAreExplained() {
    #expect(KVMAvailability.wrongAPIVersion(11).explanation.contains("API version 11"))
    #expect(KVMAvailability.classify(createVMError: EBUSY) == .busy)
    #expect(KVMAvailability.busy.explanation.contains("VirtualBox"))
    guard case let .notKVM(reason) = KVMAvailability.classify(createVMError: ENOMEM) else {
        Issue.record("ENOMEM is not EBUSY"); return
    }
    #expect(reason.contains("KVM_CREATE_VM"))
}

@Test func runOffersEmulate() {
    #expect(KVMAvailability.emulateOffer(name: "deb").contains("vmtui run deb --mode emulate"))
    #expect(KVMAvailability.emulateOffer(name: "deb").contains("vmtui set deb mode=emulate"))
}
