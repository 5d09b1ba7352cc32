import Foundation
import TestSupport
import Testing

/// Runs the built `vmtui` binary (swift test builds it) with its own VMTUI_HOME.
struct VMTUIProcess {
    static let binary: URL = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug/vmtui")
    }()

    var home = FileManager.default.temporaryDirectory.appendingPathComponent("vmtui-cli-\(UUID().uuidString)")

    struct Result { var status: Int32; var stdout: String; var stderr: String }

    var environment: [String: String] { ProcessInfo.processInfo.environment.merging(["VMTUI_HOME": home.path]) { $1 } }

    func run(_ arguments: String...) throws -> Result { try run(arguments) }

    func run(_ arguments: [String]) throws -> Result {
        let process = try HostProcess(VMTUIProcess.binary.path, arguments, environment: environment, stdout: .pipe, stderr: .pipe)
        let (stdout, stderr) = process.finish()
        return Result(status: process.status, stdout: stdout, stderr: stderr)
    }
}

let binaryBuilt = FileManager.default.isExecutableFile(atPath: VMTUIProcess.binary.path)

@Test(.enabled(if: binaryBuilt, "needs .build/debug/vmtui (swift build)"))
func createListShowSetDelete() throws {
    let vmtui = VMTUIProcess()
    let created = try vmtui.run("create", "web", "--os", "linux", "--memory", "256", "--network", "nat", "--forward", "tcp:2222:22")
    #expect(created.status == 0, "\(created.stderr)")
    let list = try vmtui.run("list")
    #expect(list.stdout.contains("web") && list.stdout.contains("Linux") && list.stdout.contains("256 MiB"))
    let json = try vmtui.run("show", "web", "--json")
    let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
    #expect(object?["memoryMiB"] as? Int == 256)
    #expect(try vmtui.run("set", "web", "network=bridge:br0", "memory=512").status == 0)
    let shown = try vmtui.run("show", "web")
    #expect(shown.stdout.contains("Bridge br0") && shown.stdout.contains("512 MiB"))
    #expect(shown.stdout.contains("MAC      52:54:00:"))
    #expect(try vmtui.run("set", "web", "mac=02:00:00:aa:bb:cc").status == 0)
    #expect(try vmtui.run("show", "web").stdout.contains("MAC      02:00:00:aa:bb:cc"))
    let multicast = try vmtui.run("set", "web", "mac=01:00:5e:00:00:01")
    #expect(multicast.status == 2 && multicast.stderr.contains("mac: \"01:00:5e:00:00:01\" is a multicast address"))
    #expect(try vmtui.run("show", "web").stdout.contains("MAC      02:00:00:aa:bb:cc"))
    #expect(try vmtui.run("delete", "web").status == 2)  // no TTY and no --yes
    #expect(try vmtui.run("delete", "web", "--yes").status == 0)
    #expect(try vmtui.run("show", "web").status == 2)
}

@Test(.enabled(if: binaryBuilt, "needs .build/debug/vmtui (swift build)"))
func validationErrorsExitTwoWithAMessage() throws {
    let vmtui = VMTUIProcess()
    let notISO = try vmtui.run("create", "x", "--iso", "/etc/hostname")
    #expect(notISO.status == 2)
    #expect(notISO.stderr.contains("not an ISO 9660 image"))
    let tooBig = try vmtui.run("create", "x", "--memory", "99999999")
    #expect(tooBig.status == 2 && tooBig.stderr.contains("memoryMiB: 99999999 is out of range"))
    #expect(try vmtui.run("create", "bad/name").status == 2)
    #expect(try vmtui.run("create", "x", "--network", "bridge").status == 2)
    #expect(try vmtui.run("frobnicate").status == 2)
    #expect(try vmtui.run("list").stdout.contains("no VMs yet"))
}

@Test(.enabled(if: binaryBuilt, "needs .build/debug/vmtui (swift build)"))
func setRepairsAnOutOfRangeValue() throws {
    let vmtui = VMTUIProcess()
    #expect(try vmtui.run("create", "fixme").status == 0)
    let url = vmtui.home.appendingPathComponent("VMs/fixme.vmtui/config.json")
    let text = try String(contentsOf: url, encoding: .utf8).replacingOccurrences(of: "\"memoryMiB\" : 128", with: "\"memoryMiB\" : 1")
    try text.write(to: url, atomically: true, encoding: .utf8)
    #expect(try vmtui.run("list").stdout.contains("broken: memoryMiB: 1 is out of range"))
    #expect(try vmtui.run("set", "fixme", "cpus=1").status == 2)  // still out of range: refused
    #expect(try vmtui.run("set", "fixme", "memory=64").status == 0)
    #expect(try vmtui.run("show", "fixme").stdout.contains("64 MiB"))
}

@Test(.enabled(if: binaryBuilt, "needs .build/debug/vmtui (swift build)"))
func listShowsBrokenVMsAndJSON() throws {
    let vmtui = VMTUIProcess()
    #expect(try vmtui.run("create", "ok").status == 0)
    let bundle = vmtui.home.appendingPathComponent("VMs/broken.vmtui")
    try FileManager.default.createDirectory(at: bundle, withIntermediateDirectories: true)
    try Data("{ nope".utf8).write(to: bundle.appendingPathComponent("config.json"))
    let list = try vmtui.run("list")
    #expect(list.status == 0)
    #expect(list.stdout.contains("broken is broken: not valid JSON"))
    // The reason goes under the table, so a long one does not widen the STATE column.
    // (The table has the live columns PID, UPTIME, CPU and RSS too: about 75 characters.)
    let table = list.stdout.split(separator: "\n").prefix(3)
    #expect(table.allSatisfy { $0.count < 100 && !$0.contains("JSON") }, "\(list.stdout)")
    #expect(table.last?.hasPrefix("ok") == true && table.dropFirst().first?.hasPrefix("broken  ") == true, "\(list.stdout)")
    let json = try vmtui.run("list", "--json")
    let items = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]]
    #expect(items?.map { $0["state"] as? String } == ["broken", "stopped"])
}
