import Foundation
import Testing
import Engine
import TestSupport

/// The session facade driven as the TUI drives it, from another thread: SeaBIOS boots the nasm
/// test guests in Tests/guests (the guest tests are skipped when seabios or nasm is absent).
@Suite struct VMSessionTests {
    static let guestsBuildable = HostFiles.have(HostFiles.seabios, HostFiles.nasm)

    /// Assembles Tests/guests/NAME.asm into a 1.44 MB floppy image.
    static func floppy(_ name: String) throws -> String {
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("guests/\(name).asm").path
        let image = FileManager.default.temporaryDirectory.appendingPathComponent("vmtui-\(name)-\(UUID().uuidString).img").path
        try assembleFloppy(source, into: image)
        return image
    }

    static func config(floppy: String, name: String) -> VMConfig {
        var config = VMConfig(name: name)
        config.memoryMiB = 16
        config.floppyImage = floppy
        config.bootOrder = [.floppy]
        return config
    }

    /// Polls `condition` until it holds or `seconds` pass.
    static func eventually(_ seconds: Double = 60, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            Thread.sleep(forTimeInterval: 0.01)
        }
        return condition()
    }

    @Test func buildFailureStopsWithTheMessage() {
        var config = VMConfig(name: "nobios")
        config.firmware.biosPath = "/nonexistent/bios.bin"
        let session = VMSession(config: config, baseDirectory: nil)
        #expect(session.waitUntilStopped(timeout: .seconds(5)))
        guard case .stopped(.hostError(let message)) = session.state else {
            Issue.record("expected a host error, got \(session.state)")
            return
        }
        #expect(message.contains("/nonexistent/bios.bin"))
        #expect(session.state.label == "host error")
        // Requests after the stop are ignored rather than queued forever.
        session.send(GuestKeyStroke(.a))
        session.pause()
        #expect(!session.state.isActive)
    }

    @Test(.enabled(if: guestsBuildable && HostFiles.have(HostFiles.memtestISO), "needs seabios, nasm and memtest86+ (apt-get install seabios nasm memtest86+)"))
    func changingTheCDReportsWhatHappened() throws {
        let iso = HostFiles.memtestISO
        let image = try Self.floppy("echo")
        defer { try? FileManager.default.removeItem(atPath: image) }
        let session = VMSession(config: Self.config(floppy: image, name: "cd"), baseDirectory: nil)
        defer { session.powerOff(); session.waitUntilStopped(timeout: .seconds(5)) }
        #expect(Self.eventually { session.state == .running })
        #expect(session.mediaNotice == nil)
        session.changeISO(iso)
        #expect(Self.eventually(10) { session.mediaNotice == VMSession.MediaNotice(text: "CD: memtest86+ia32.iso inserted", isError: false) })
        session.changeISO("/etc/hostname")
        #expect(Self.eventually(10) { session.mediaNotice?.isError == true })
        #expect(session.mediaNotice?.text.contains("/etc/hostname") == true)
        session.changeISO(nil)
        #expect(Self.eventually(10) { session.mediaNotice == VMSession.MediaNotice(text: "CD ejected", isError: false) })
        #expect(session.state == .running)
    }

    @Test(.enabled(if: guestsBuildable, "needs seabios and nasm (apt-get install seabios nasm)"))
    func echoGuestTypesPausesAndPowersOff() throws {
        let image = try Self.floppy("echo")
        defer { try? FileManager.default.removeItem(atPath: image) }
        let session = VMSession(config: Self.config(floppy: image, name: "echo"), baseDirectory: nil)
        defer { session.powerOff(); session.waitUntilStopped(timeout: .seconds(5)) }
        #expect(Self.eventually { session.screen().screen.contains("vmtui echo guest ready") })
        #expect(session.state == .running)

        let before = session.screen().version
        for c in "Hi!" { session.send(try #require(GuestKeyStroke(typing: c))) }
        session.send(GuestKeyStroke(.enter))
        session.send(GuestKeyStroke(.a, ctrl: true))
        session.send(GuestKeyStroke(.f2))
        #expect(Self.eventually(10) { session.screen().screen.contains("^A<F2>") })
        let screen = session.screen()
        #expect(screen.version > before)
        #expect(screen.screen.contains("Hi!"))
        #expect(!screen.screen.line(3).contains("^A"), "Enter starts a new line")
        session.sendSerial(Array("via com1".utf8))
        #expect(Self.eventually(10) { session.serial().scrollback.text.contains("^A<F2>via com1") })
        #expect(session.serial().scrollback.text.hasPrefix("vmtui echo guest ready: type here\nHi!\n"))

        session.pause()
        #expect(Self.eventually(5) { session.state == .paused })
        let paused = session.stats.instructionsRetired
        session.send(GuestKeyStroke(.z))
        Thread.sleep(forTimeInterval: 0.3)
        #expect(session.stats.instructionsRetired == paused)
        #expect(!session.screen().screen.contains("via com1z"))
        session.resume()
        #expect(Self.eventually(10) { session.screen().screen.contains("via com1z") }, "keys typed while paused arrive after resume")
        #expect(session.state == .running)
        #expect(Self.eventually(5) { session.stats.instructionsRetired > paused && session.stats.uptimeNanoseconds > 0 })

        // No ACPI OS listens in this guest, so the power button cuts the power at once.
        session.requestPowerOff()
        #expect(session.waitUntilStopped(timeout: .seconds(5)))
        #expect(session.state == .stopped(.powerCut), "no OS answered the button: vmtui cut the power")
        #expect(session.screen().screen.contains("via com1z"), "the last screen stays readable")
    }

    @Test(.enabled(if: guestsBuildable, "needs seabios and nasm (apt-get install seabios nasm)"))
    func acpiGuestShutsDownOnThePowerButton() throws {
        let image = try Self.floppy("acpi-power-button")
        defer { try? FileManager.default.removeItem(atPath: image) }
        let session = VMSession(name: "acpi", powerButtonTimeout: .seconds(30)) {
            try Machine.assemble(config: Self.config(floppy: image, name: "acpi"), baseDirectory: nil)
        }
        defer { session.powerOff(); session.waitUntilStopped(timeout: .seconds(5)) }
        #expect(Self.eventually { session.screen().screen.contains("power button armed") })
        session.requestPowerOff()
        #expect(session.waitUntilStopped(timeout: .seconds(10)), "well before the 30 s forced power-off")
        #expect(session.state == .stopped(.poweredOff))
        #expect(session.screen().screen.contains("power button pressed: shutting down"))
    }

    @Test(.enabled(if: guestsBuildable, "needs seabios and nasm (apt-get install seabios nasm)"))
    func powerIsCutWhenTheGuestDoesNotReactInTime() throws {
        let image = try Self.floppy("acpi-power-button")
        defer { try? FileManager.default.removeItem(atPath: image) }
        let session = VMSession(name: "stuck", powerButtonTimeout: .milliseconds(300)) {
            try Machine.assemble(config: Self.config(floppy: image, name: "stuck"), baseDirectory: nil)
        }
        defer { session.powerOff(); session.waitUntilStopped(timeout: .seconds(5)) }
        #expect(Self.eventually { session.screen().screen.contains("power button armed") })
        session.pause() // a paused guest cannot answer the button
        #expect(Self.eventually(10) { session.state == .paused })
        let pressed = ContinuousClock.now
        session.requestPowerOff()
        #expect(session.waitUntilStopped(timeout: .seconds(5)))
        #expect(ContinuousClock.now - pressed >= .milliseconds(300), "the guest gets its time first")
        #expect(session.state == .stopped(.powerCut))
        #expect(!session.screen().screen.contains("shutting down"))
    }

    @Test(.enabled(if: guestsBuildable, "needs seabios and nasm (apt-get install seabios nasm)"))
    func tripleFaultStopsTheSessionOnly() throws {
        let image = try Self.floppy("triple-fault")
        defer { try? FileManager.default.removeItem(atPath: image) }
        let session = VMSession(config: Self.config(floppy: image, name: "fault"), baseDirectory: nil)
        #expect(session.waitUntilStopped(timeout: .seconds(90)))
        guard case .stopped(.tripleFault) = session.state else {
            Issue.record("expected a triple fault, got \(session.state)")
            return
        }
        #expect(session.state.label == "triple fault")
        #expect(session.screen().screen.contains("vmtui triple-fault guest: faulting now"))
    }
}
