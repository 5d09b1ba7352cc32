import Foundation
import Testing
import TestSupport

/// `vmtui run NAME`: the VM is loaded through the same validation as every other command, errors
/// name the thing and the fix, and --until-text watches COM1 as well as the screen.
@Suite(.enabled(if: binaryBuilt, "needs .build/debug/vmtui (swift build)"))
struct RunCommandTests {
    let vmtui = VMTUIProcess()

    @Test func aMissingVMIsNamed() throws {
        let run = try vmtui.run("run", "nosuch", "--headless")
        #expect(run.status == 2)
        #expect(run.stderr.hasPrefix("vmtui: no VM named nosuch"), "\(run.stderr)")
        #expect(run.stderr.contains("vmtui list"), "\(run.stderr)")
        #expect(!run.stderr.contains("could not be completed"), "\(run.stderr)")
    }

    @Test func anUnwritableHomeIsNamedWithTheFix() throws {
        var proc = VMTUIProcess()
        proc.home = URL(fileURLWithPath: "/proc/x")
        let create = try proc.run("create", "x")
        #expect(create.status == 1)
        #expect(create.stderr.contains("/proc/x/VMs/x.vmtui: cannot create the VM folder: No such file or directory"), "\(create.stderr)")
        #expect(create.stderr.contains("set VMTUI_HOME"), "\(create.stderr)")
        #expect(!create.stderr.contains("Error Domain"), "\(create.stderr)")
    }

    @Test(arguments: [("\"schemaVersion\" : 1", "\"schemaVersion\" : 99", "schemaVersion 99"),
                      ("\"cpuCount\" : 1", "\"cpuCount\" : 999", "cpuCount: 999 is out of range")])
    func aConfigOtherCommandsRefuseDoesNotRun(from: String, to: String, message: String) throws {
        #expect(try vmtui.run("create", "v", "--network", "none").status == 0)
        let url = vmtui.home.appendingPathComponent("VMs/v.vmtui/config.json")
        let text = try String(contentsOf: url, encoding: .utf8)
        #expect(text.contains(from))
        try text.replacingOccurrences(of: from, with: to).write(to: url, atomically: true, encoding: .utf8)
        #expect(try vmtui.run("show", "v").status == 2)
        for arguments in [["run", "v", "--headless", "--timeout", "5"], ["run", "--config", url.path, "--headless", "--timeout", "5"]] {
            let run = try vmtui.run(arguments)
            #expect(run.status == 2, "\(arguments) ran: \(run.stdout)")
            #expect(run.stderr.contains(message), "\(run.stderr)")
        }
    }

    /// Tests/guests/hello-boot.asm on a 1.44 MB floppy image: it writes "serial hello from
    /// floppy" to COM1 only, then "Hello from floppy" on the screen, then halts.
    static func helloFloppy() throws -> String {
        let guests = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../guests").standardizedFileURL
        let image = FileManager.default.temporaryDirectory.appendingPathComponent("hello-floppy-\(UUID().uuidString).img").path
        try assembleFloppy(guests.appendingPathComponent("hello-boot.asm").path, into: image, defines: ["MEDIUM=floppy"])
        return image
    }

    @Test(.enabled(if: HostFiles.have(HostFiles.nasm, HostFiles.seabios), "needs nasm and SeaBIOS (apt-get install nasm seabios)"))
    func untilTextMatchesWhatTheGuestPrintsOnCOM1() throws {
        let image = try Self.helloFloppy()
        defer { try? FileManager.default.removeItem(atPath: image) }
        #expect(try vmtui.run("create", "s", "--floppy", image, "--boot", "floppy", "--memory", "16", "--network", "none").status == 0)
        for serial in ["none", "stdio"] {
            let run = try vmtui.run("run", "s", "--headless", "--serial", serial, "--until-text", "serial hello from floppy", "--timeout", "150")
            #expect(run.status == 0, "--serial \(serial): \(run.stderr)")
        }
    }

    /// boot=disk boots the disk or nothing: SeaBIOS must not fall back to the bootable floppy.
    @Test(.enabled(if: HostFiles.have(HostFiles.nasm, HostFiles.seabios), "needs nasm and SeaBIOS (apt-get install nasm seabios)"))
    func bootOrderListsTheOnlyDevicesTried() throws {
        let image = try Self.helloFloppy()
        defer { try? FileManager.default.removeItem(atPath: image) }
        #expect(try vmtui.run("create", "b", "--floppy", image, "--boot", "disk", "--memory", "16", "--network", "none").status == 0)
        let run = try vmtui.run("run", "b", "--headless", "--until-text", "No bootable device", "--until-text", "Hello from floppy", "--timeout", "150")
        #expect(run.status == 0, "\(run.stderr)")
        #expect(!run.stdout.contains("Hello from floppy"), "\(run.stdout)")
        #expect(!run.stdout.contains("Booting from Floppy"), "\(run.stdout)")
    }
}
