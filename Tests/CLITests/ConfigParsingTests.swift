import Foundation
import Testing
@testable import Engine

@Test func parsesSizes() {
    #expect(ByteSize.parse("20G") == 20 << 30)
    #expect(ByteSize.parse("512") == 512 << 20)
    #expect(ByteSize.parse("1.5GiB") == 3 << 29)
    #expect(ByteSize.parse("4096B") == 4096)
    #expect(ByteSize.parse("big") == nil)
    #expect(ByteSize.parse("0") == nil)
    #expect(ByteSize.format(20 << 30) == "20 GiB")
    #expect(ByteSize.format(3 << 29) == "1.5 GiB")
}

@Test func parsesNetworkAndForwards() throws {
    #expect(try VMConfig.parseNetwork("bridge:br0") == .init(mode: .bridge, bridgeInterface: "br0"))
    #expect(try VMConfig.parseNetwork("none") == .init(mode: .none))
    #expect(throws: VMConfigError.self) { try VMConfig.parseNetwork("bridge") }
    #expect(throws: VMConfigError.self) { try VMConfig.parseNetwork("wifi") }
    #expect(try VMConfig.parsePortForward("udp:5353:53") == .init(proto: .udp, hostPort: 5353, guestPort: 53))
    #expect(try VMConfig.parsePortForward("2222:22") == .init(proto: .tcp, hostPort: 2222, guestPort: 22))
    #expect(throws: VMConfigError.self) { try VMConfig.parsePortForward("tcp:0:22") }
    #expect(try VMConfig.parseBootOrder("disk,cdrom") == [.disk, .cdrom])
    #expect(throws: VMConfigError.self) { try VMConfig.parseBootOrder("disk,disk") }
    #expect(try VMConfig.parseMemoryMiB("1G") == 1024)
}

@Test func settingsApplyAndRefuseUnknownKeys() throws {
    var config = VMConfig(name: "s")
    try config.apply(setting: "memory=512")
    try config.apply(setting: "network=bridge:br0")
    try config.apply(setting: "boot=disk,cdrom")
    #expect(config.memoryMiB == 512 && config.network.bridgeInterface == "br0" && config.bootOrder == [.disk, .cdrom])
    #expect(throws: VMConfigError.self) { try config.apply(setting: "colour=blue") }
    #expect(throws: VMConfigError.self) { try config.apply(setting: "memory") }
}

@Test func isoCheckLooksForCD001() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("iso-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    var iso = Data(count: 0x8800)
    iso.replaceSubrange(0x8001..<0x8006, with: Data("CD001".utf8))
    let good = dir.appendingPathComponent("good.iso").path
    let bad = dir.appendingPathComponent("bad.iso").path
    try iso.write(to: URL(fileURLWithPath: good))
    try Data(count: 0x8800).write(to: URL(fileURLWithPath: bad))
    #expect(throws: Never.self) { try BootMedia.checkISO(good) }
    #expect(throws: VMConfigError.self) { try BootMedia.checkISO(bad) }
    #expect(throws: VMConfigError.self) { try BootMedia.checkISO(dir.appendingPathComponent("missing.iso").path) }
    do { try BootMedia.checkISO(bad) } catch { #expect("\(error)".contains("not an ISO 9660 image")) }
}

/// The wizard's forwards field and `set forwards=` take the same text: "none" (what the field's
/// placeholder offers) is no forwards, and a host port used twice is refused right there.
@Test func forwardListsTakeNoneAndRefuseARepeatedHostPort() throws {
    #expect(try VMConfig.parsePortForwards("none").isEmpty)
    #expect(try VMConfig.parsePortForwards(" ").isEmpty)
    #expect(try VMConfig.parsePortForwards("tcp:2222:22, udp:2222:22").count == 2)
    do {
        _ = try VMConfig.parsePortForwards("tcp:2222:22, 8080:80, tcp:2222:23")
        Issue.record("a repeated host port was accepted")
    } catch {
        #expect("\(error)" == "forward: tcp:2222:23 uses host port 2222 again; allowed each host port once per protocol")
    }
    var config = VMConfig(name: "f")
    try config.apply(setting: "forwards=tcp:1:1,tcp:2:2")
    try config.apply(setting: "forwards=none")
    #expect(config.network.portForwards.isEmpty)
    #expect(throws: VMConfigError.self) { try config.apply(setting: "forwards=tcp:1:1,tcp:1:2") }
}

@Test func diskFullPolicyIsSetPerDiskOrForAll() throws {
    var config = VMConfig(name: "d")
    #expect(throws: VMConfigError.self) { try config.apply(setting: "disk-full=report") } // no disk yet
    config.disks = [.init(path: "a.qcow2", format: .qcow2, sizeBytes: nil, interface: .sata),
                    .init(path: "b.vdi", format: .vdi, sizeBytes: nil, interface: .virtio)]
    #expect(config.disks.map(\.onHostDiskFull) == [.pause, .pause])
    try config.apply(setting: "disk-full=1:report")
    #expect(config.disks.map(\.onHostDiskFull) == [.pause, .report])
    try config.apply(setting: "disk-full=REPORT")
    #expect(config.disks.map(\.onHostDiskFull) == [.report, .report])
    try config.apply(setting: "disk-full=0:pause")
    #expect(config.disks.map(\.onHostDiskFull) == [.pause, .report])
    #expect(throws: VMConfigError.self) { try config.apply(setting: "disk-full=2:pause") }
    #expect(throws: VMConfigError.self) { try config.apply(setting: "disk-full=x:pause") }
    #expect(throws: VMConfigError.self) { try config.apply(setting: "disk-full=ignore") }
    #expect(config.disks.map(\.onHostDiskFull) == [.pause, .report])
}
