import Foundation
import Testing
@testable import Engine

/// A library in a fresh temporary directory, with fixed host limits so results do not depend on the machine.
func temporaryLibrary() throws -> VMLibrary {
    let home = FileManager.default.temporaryDirectory.appendingPathComponent("vmtui-test-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
    return VMLibrary(home: home, limits: HostLimits(memoryMiB: 2048, cpuCount: 2))
}

func writeBroken(_ library: VMLibrary, name: String, json: String) throws {
    try FileManager.default.createDirectory(at: library.bundleURL(name: name), withIntermediateDirectories: true)
    try Data(json.utf8).write(to: library.configURL(name: name))
}

@Test func saveWritesSortedPrettyJSONAndLoadsItBack() throws {
    let library = try temporaryLibrary()
    let config = VMConfig(name: "web", osType: .linux, network: .init(mode: .nat, portForwards: [.init(proto: .tcp, hostPort: 2222, guestPort: 22)]))
    try library.save(config)
    let text = try String(contentsOf: library.configURL(name: "web"), encoding: .utf8)
    #expect(text.contains("\n  \"bootOrder\""))
    let keys = text.split(separator: "\n").filter { $0.hasPrefix("  \"") }.map { $0.split(separator: "\"")[1] }
    #expect(keys == keys.sorted())
    #expect(try library.load(name: "web") == config)
    // No temp file left beside it.
    #expect(try FileManager.default.contentsOfDirectory(atPath: library.bundleURL(name: "web").path) == ["config.json"])
}

@Test func outOfRangeMemoryNamesFileFieldValueAndRange() throws {
    let library = try temporaryLibrary()
    var config = VMConfig(name: "web")
    try library.save(config)
    config.memoryMiB = 0
    let data = try JSONEncoder().encode(config)
    try data.write(to: library.configURL(name: "web"))
    #expect(throws: VMConfigError.self) { try library.load(name: "web") }
    do { _ = try library.load(name: "web") } catch {
        #expect("\(error)" == "\(library.configURL(name: "web").path): memoryMiB: 0 is out of range; allowed 4…2048 MiB (this host's RAM)")
    }
}

/// The engine's memory limit (MachineError.memoryRange) is the one validation enforces, even on
/// a host with more RAM: a VM saved with more could never start.
@Test func memoryAboveTheEnginesLimitIsRefusedOnABigHost() throws {
    let home = FileManager.default.temporaryDirectory.appendingPathComponent("vmtui-test-\(UUID().uuidString)")
    let library = VMLibrary(home: home, limits: HostLimits(memoryMiB: 65536, cpuCount: 2))
    #expect(library.limits.memoryRange == 4...MachineError.memoryRange.upperBound)
    var config = VMConfig(name: "big")
    config.memoryMiB = MachineError.memoryRange.upperBound
    try library.save(config)
    config.memoryMiB = MachineError.memoryRange.upperBound + 1
    do {
        try library.save(config)
        Issue.record("\(config.memoryMiB) MiB was accepted")
    } catch {
        #expect("\(error)" == "memoryMiB: \(config.memoryMiB) is out of range; allowed 4…\(MachineError.memoryRange.upperBound) MiB (the most vmtui's engine gives a VM)")
    }
}

@Test func brokenConfigIsListedWhileOthersLoad() throws {
    let library = try temporaryLibrary()
    let good = VMConfig(name: "good")
    try library.save(good)
    try writeBroken(library, name: "bad", json: "{\n  \"schemaVersion\": 1,\n  oops\n}")
    try writeBroken(library, name: "badmode", json: #"{"schemaVersion":1,"name":"badmode","mode":"turbo"}"#)
    let entries = library.list()
    #expect(entries.map(\.name) == ["bad", "badmode", "good"])
    guard case let .broken(_, reason) = entries[0] else { Issue.record("bad should be broken"); return }
    #expect(reason.contains("not valid JSON") && reason.contains("line 3"))
    guard case let .broken(_, modeReason) = entries[1] else { Issue.record("badmode should be broken"); return }
    #expect(modeReason == "mode: \"turbo\" is not allowed; allowed emulate, virtualize")
    #expect(entries[2] == .vm(good))
}

@Test func newerSchemaIsRefusedAndLeftUntouched() throws {
    let library = try temporaryLibrary()
    let json = #"{"schemaVersion": 99, "name": "future", "hologram": true}"#
    try writeBroken(library, name: "future", json: json)
    #expect(throws: VMConfigError.newerSchema(file: library.configURL(name: "future").path, found: 99, supported: 1)) {
        try library.load(name: "future")
    }
    #expect(try String(contentsOf: library.configURL(name: "future"), encoding: .utf8) == json)
}

@Test func missingFieldIsNamed() throws {
    let library = try temporaryLibrary()
    try writeBroken(library, name: "old", json: #"{"schemaVersion": 1, "name": "old"}"#)
    guard case let .broken(_, reason) = library.list().first else { Issue.record("expected broken"); return }
    #expect(reason.hasPrefix("bootOrder: missing") || reason.hasPrefix("cpuCount: missing") || reason.contains(": missing"))
}

@Test func wrongTypeQuotesTheValue() throws {
    let library = try temporaryLibrary()
    var object = try JSONSerialization.jsonObject(with: JSONEncoder().encode(VMConfig(name: "t"))) as! [String: Any]
    object["memoryMiB"] = "lots"
    try writeBroken(library, name: "t", json: String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self))
    guard case let .broken(_, reason) = library.list().first else { Issue.record("expected broken"); return }
    #expect(reason == "memoryMiB: \"lots\" has the wrong type; allowed a whole number")
}

@Test(arguments: ["web", "Debian-12", "a.b_c", "x"])
func acceptsSafeNames(_ name: String) { #expect(VMName.isValid(name)) }

@Test(arguments: ["", ".hidden", "-x", "a/b", "a b", "ünï", "..", String(repeating: "a", count: 65)])
func refusesUnsafeNames(_ name: String) { #expect(!VMName.isValid(name)) }

@Test func createMakesSparseRawDiskAndRollsBackOnFailure() throws {
    let library = try temporaryLibrary()
    let disk = VMConfig.Disk(path: "disk0.img", format: .raw, sizeBytes: 1 << 30, interface: .ide)
    try library.create(VMConfig(name: "d", disks: [disk]))
    let image = library.imageURL(of: disk, vm: "d")
    let attributes = try FileManager.default.attributesOfItem(atPath: image.path)
    #expect(attributes[.size] as? UInt64 == 1 << 30)
    var st = stat()
    #expect(stat(image.path, &st) == 0 && st.st_blocks < 64)  // sparse: nothing allocated yet
    #expect(throws: VMConfigError.self) { try library.create(VMConfig(name: "d")) }

    let qcow = VMConfig.Disk(path: "disk0.qcow2", format: .qcow2, sizeBytes: 1 << 30, interface: .ide)
    #expect(throws: VMConfigError.self) {
        try library.create(VMConfig(name: "q", disks: [qcow]), diskCreator: FailingDiskCreator())
    }
    #expect(!library.exists(name: "q"))
}

/// A creator whose disk cannot be made (a full disk, say): create must leave nothing behind.
struct FailingDiskCreator: DiskImageCreator {
    var supportedFormats: [VMConfig.DiskFormat] { VMConfig.DiskFormat.allCases }
    func create(at url: URL, format: VMConfig.DiskFormat, sizeBytes: UInt64) throws {
        throw VMConfigError.io(path: url.path, reason: "No space left on device")
    }
}

@Test func newQcow2DiskIsSparseAndProbesAsQcow2() throws {
    let library = try temporaryLibrary()
    let disk = VMConfig.Disk(path: "disk0.qcow2", format: .qcow2, sizeBytes: 20 << 30, interface: .ide)
    try library.create(VMConfig(name: "q", disks: [disk]))
    let image = library.imageURL(of: disk, vm: "q")
    #expect(try DiskImage.probe(path: image.path) == .qcow2)
    var st = stat()
    #expect(stat(image.path, &st) == 0 && st.st_size < 1 << 20)  // 20 GiB virtual, under 1 MiB on disk
}

@Test func updateCreatesAddedDisksWithFreeNames() throws {
    let library = try temporaryLibrary()
    let first = VMConfig.Disk(path: library.newDiskName(vm: "u", format: .raw), format: .raw, sizeBytes: 1 << 20, interface: .ide)
    try library.create(VMConfig(name: "u", disks: [first]))
    #expect(first.path == "disk0.img")
    let second = VMConfig.Disk(path: library.newDiskName(vm: "u", format: .raw), format: .raw, sizeBytes: 2 << 20, interface: .ide)
    #expect(second.path == "disk1.img")
    try library.update(VMConfig(name: "u", disks: [second]))
    #expect(FileManager.default.fileExists(atPath: library.imageURL(of: second, vm: "u").path))
    #expect(try library.load(name: "u").disks == [second])
    // A disk the VM already had is not re-created when its image is missing.
    try FileManager.default.removeItem(at: library.imageURL(of: second, vm: "u"))
    try library.update(VMConfig(name: "u", memoryMiB: 64, disks: [second]))
    #expect(!FileManager.default.fileExists(atPath: library.imageURL(of: second, vm: "u").path))
    // A failed save (config.json replaced by a directory) leaves no new image behind.
    let config = library.configURL(name: "u")
    try FileManager.default.removeItem(at: config)
    try FileManager.default.createDirectory(at: config.appendingPathComponent("x"), withIntermediateDirectories: true)
    let third = VMConfig.Disk(path: "disk2.img", format: .raw, sizeBytes: 1 << 20, interface: .ide)
    #expect(throws: VMConfigError.self) { try library.update(VMConfig(name: "u", disks: [third])) }
    #expect(!FileManager.default.fileExists(atPath: library.imageURL(of: third, vm: "u").path))
}

@Test func deleteRemovesBundle() throws {
    let library = try temporaryLibrary()
    try library.save(VMConfig(name: "gone"))
    try library.delete(name: "gone")
    #expect(library.list().isEmpty)
    #expect(throws: VMConfigError.self) { try library.delete(name: "gone") }
}

@Test func bridgeWithoutInterfaceAndDuplicateForwardsAreRefused() {
    let limits = HostLimits(memoryMiB: 1024, cpuCount: 1)
    #expect(throws: VMConfigError.self) { try VMConfig(name: "b", network: .init(mode: .bridge)).validate(limits: limits) }
    let forward = VMConfig.PortForward(proto: .tcp, hostPort: 80, guestPort: 80)
    #expect(throws: VMConfigError.self) {
        try VMConfig(name: "b", network: .init(mode: .nat, portForwards: [forward, forward])).validate(limits: limits)
    }
    #expect(throws: VMConfigError.self) { try VMConfig(name: "c", cpuCount: 256).validate(limits: limits) }
    #expect(throws: Never.self) { try VMConfig(name: "c", cpuCount: 2).validate(limits: limits) } // more than the host's: allowed
    #expect(throws: Never.self) { try VMConfig(name: "b", network: .init(mode: .bridge, bridgeInterface: "br0")).validate(limits: limits) }
}

/// As many disks as the PC's controllers take: 2 IDE, 6 SATA, 4 virtio, each counted alone.
@Test func diskCountIsLimitedPerController() {
    let limits = HostLimits(memoryMiB: 1024, cpuCount: 1)
    func config(ide: Int, sata: Int, virtio: Int) -> VMConfig {
        var config = VMConfig(name: "d")
        config.disks = [(VMConfig.DiskInterface.ide, ide), (.sata, sata), (.virtio, virtio)].flatMap { interface, count in
            (0..<count).map { VMConfig.Disk(path: "/d/\(interface)\($0).qcow2", format: .qcow2, sizeBytes: nil, interface: interface) }
        }
        return config
    }
    #expect(throws: Never.self) { try config(ide: 2, sata: 6, virtio: 4).validate(limits: limits) }
    for (ide, sata, virtio) in [(3, 0, 0), (0, 7, 0), (0, 0, 5)] {
        #expect(throws: VMConfigError.self) { try config(ide: ide, sata: sata, virtio: virtio).validate(limits: limits) }
    }
}

@Test func newVMsGetALocalMACAndOldConfigsKeepTheOneTheyGetOnFirstLoad() throws {
    let library = try temporaryLibrary()
    let first = VMConfig(name: "a"), second = VMConfig(name: "b")
    #expect(first.macAddress!.bytes.prefix(3) == [0x52, 0x54, 0x00])
    #expect(first.macAddress != second.macAddress)
    // A config written before MAC addresses existed.
    try writeBroken(library, name: "old", json: #"{"schemaVersion":1,"name":"old","mode":"emulate","osType":"linux","memoryMiB":64,"cpuCount":1,"disks":[],"bootOrder":["disk"],"network":{"mode":"nat","portForwards":[]},"firmware":{}}"#)
    let loaded = try library.load(name: "old")
    #expect(loaded.macAddress != nil)
    let text = try String(contentsOf: library.configURL(name: "old"), encoding: .utf8)
    #expect(text.contains("\"macAddress\" : \"\(loaded.macAddress!)\""))
    #expect(try library.load(name: "old").macAddress == loaded.macAddress)
}

@Test(arguments: ["52:54:00:12:34:56", "02-00-00-00-00-01", "AA:BB:CC:DD:EE:FF"])
func acceptsUnicastMACs(_ text: String) throws {
    #expect(try MACAddress(parsing: text).description == text.lowercased().replacingOccurrences(of: "-", with: ":"))
}

@Test(arguments: ["01:00:5e:00:00:01", "ff:ff:ff:ff:ff:ff", "00:00:00:00:00:00", "52:54:00:12:34", "52:54:00:12:34:56:78",
                  "52:54:00:12:34:5", "52:54:00:12:34:zz", ""])
func refusesBadMACs(_ text: String) {
    #expect(throws: VMConfigError.self) { try MACAddress(parsing: text) }
}
