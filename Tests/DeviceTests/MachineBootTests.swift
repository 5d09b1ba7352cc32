import Foundation
import Testing
@testable import Engine
import TestSupport

/// The assembled PC booting Debian's SeaBIOS in-process, in deterministic time: the boot
/// sector from Tests/guests/hello-boot.asm on a floppy image, checked on the VGA text screen,
/// on COM1 and in the SeaBIOS log. The release-binary guest tests (Tests/scripts/
/// platform-guests.sh) cover the rest through `vmtui run`.
@Suite struct MachineBootTests {
    static let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../guests/hello-boot.asm").standardizedFileURL.path

    struct Run {
        var screen: TextScreen
        var serial: String
        var log: String
        var retired: UInt64
        var stop: MachineStop?
    }

    /// Boots a floppy holding the boot sector until the guest halts for good (`cli; hlt`).
    static func boot(_ image: String) throws -> Run {
        var config = VMConfig(name: "boot-test")
        config.memoryMiB = 32
        config.floppyImage = image
        config.bootOrder = [.floppy]
        config.network.mode = .none // no host I/O thread in a deterministic run: 5 PCI functions
        let machine = try Machine(config: config, firmware: try FirmwareLocator().load(),
                                  timeMode: .deterministic(nanosecondsPerInstruction: 10),
                                  unixTime: 1_700_000_000) { Interpreter(environment: $0) }
        var serial: [UInt8] = []
        machine.com1.onTransmit = { serial.append($0) }
        var slices = 0
        // The halt comes after about 6 million instructions; the limit only stops a runaway.
        while machine.runSlice() == nil, !machine.haltedForever, slices < 5_000 { slices += 1 }
        return Run(screen: machine.screen(), serial: String(decoding: serial, as: UTF8.self),
                   log: machine.debugConsole.text, retired: machine.instructionsRetired, stop: machine.stopReason)
    }

    static func floppyImage() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vmtui-boot-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let image = dir.appendingPathComponent("floppy.img").path
        try assembleFloppy(source, into: image, defines: ["MEDIUM=floppy"])
        return image
    }

    @Test(.enabled(if: HostFiles.have(HostFiles.nasm, FirmwareLocator.defaultBIOS), "needs nasm and SeaBIOS (apt-get install nasm seabios)"))
    func seabiosBootsAFloppyBootSectorDeterministically() throws {
        let image = try Self.floppyImage()
        defer { try? FileManager.default.removeItem(atPath: (image as NSString).deletingLastPathComponent) }
        let first = try Self.boot(image)
        #expect(first.stop == nil)
        let rows = first.screen.plainText.split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces) }
        #expect(rows.first?.hasPrefix("SeaBIOS (version ") == true)
        #expect(rows.dropFirst().first == "Booting from Floppy...")
        #expect(rows.dropFirst(2).first == "Hello from floppy, DL=00")
        #expect(first.serial == "serial hello from floppy\r\n")
        #expect(first.log.contains("Booting from 0000:7c00"))
        #expect(first.log.contains("Found 5 PCI devices"))
        // Time derived from instructions: a second boot retires exactly as many. (It also opens
        // the image again, which the lock would refuse had the first machine not been freed.)
        let second = try Self.boot(image)
        #expect(second.retired == first.retired)
        #expect(second.log == first.log)
    }

    /// A stopped machine frees everything: guest RAM, devices, image files (and their locks).
    @Test(.enabled(if: HostFiles.have(FirmwareLocator.defaultBIOS), "needs SeaBIOS (apt-get install seabios)"))
    func aReleasedMachineFreesItsMemoryAndDevices() throws {
        let firmware = try FirmwareLocator().load()
        weak var memory: MemoryMap?
        weak var ports: PortMap?
        weak var hostBridge: I440FX?
        weak var cpu: AnyObject?
        do {
            var config = VMConfig(name: "release-test")
            config.memoryMiB = 16
            let machine = try Machine(config: config, firmware: firmware, timeMode: .deterministic(nanosecondsPerInstruction: 10)) {
                Interpreter(environment: $0)
            }
            for _ in 0..<50 { machine.runSlice() } // some of POST: devices registered, ports mapped
            memory = machine.memory
            ports = machine.ports
            hostBridge = machine.hostBridge
            cpu = machine.vcpus[0]
            #expect(memory != nil)
        }
        #expect(memory == nil)
        #expect(ports == nil)
        #expect(hostBridge == nil)
        #expect(cpu == nil)
    }
}
