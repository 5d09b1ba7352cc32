import Foundation
import Testing
@testable import Engine
import TestSupport

@Suite struct FirmwareLocatorTests {
    @Test func missingBIOSNamesTheFileAndThePackage() {
        let locator = FirmwareLocator(biosOverride: "/nonexistent/bios.bin")
        #expect(throws: FirmwareError.missing(path: "/nonexistent/bios.bin", what: "BIOS image")) { try locator.load() }
        let message = FirmwareError.missing(path: "/nonexistent/bios.bin", what: "BIOS image").description
        #expect(message.contains("/nonexistent/bios.bin") && message.contains("apt-get install seabios"))
    }

    @Test func biosOfTheWrongSizeIsRefusedWithWhatIsAllowed() throws {
        let path = NSTemporaryDirectory() + "bad-bios-\(getpid()).bin"
        try Data(count: 1000).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            _ = try FirmwareLocator(biosOverride: path).load()
            Issue.record("a 1000-byte BIOS was accepted")
        } catch {
            #expect(error.description.contains("multiple of 64 KiB"))
            #expect(error.description.contains("1000 bytes"))
        }
    }

    @Test func configOverridesTakePrecedenceOverDebianPaths() {
        let fw = VMConfig.Firmware(biosPath: "/a/bios.bin", vgaBiosPath: "/a/vga.bin")
        #expect(FirmwareLocator(firmware: fw).biosPath == "/a/bios.bin")
        #expect(FirmwareLocator(firmware: fw).vgaBiosPath == "/a/vga.bin")
        #expect(FirmwareLocator(firmware: fw, biosOverride: "/b.bin").biosPath == "/b.bin")
        #expect(FirmwareLocator().biosPath == FirmwareLocator.defaultBIOS)
    }

    @Test(.enabled(if: HostFiles.have(FirmwareLocator.defaultBIOS), "needs Debian's SeaBIOS (apt-get install seabios)"))
    func debianSeaBIOSLoads() throws {
        let fw = try FirmwareLocator().load()
        #expect(fw.bios.count == 256 << 10)
        #expect(fw.vgaBios[0] == 0x55 && fw.vgaBios[1] == 0xAA)
    }
}
