import ArgumentParser
import Engine
import Foundation

struct WaitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wait",
        abstract: "Wait until TEXT shows on a running VM's screen or COM1 output.",
        discussion: "Exit status: 0 once it shows, 1 on timeout or when the VM stops first.")

    @Argument(help: "The VM's name.")
    var name: String

    @Argument(help: "The text to wait for.")
    var text: String

    @Option(help: "Give up after SECONDS (default 60).")
    var timeout: Double = 60

    func validate() throws {
        if timeout <= 0 { throw ValidationError("--timeout must be a positive number of seconds") }
    }

    func run() throws {
        let client = try VMLauncher.attach(name)
        defer { client.close() }
        let deadline = Date().addingTimeInterval(timeout)
        var seen = (screen: UInt64.max, serial: UInt64.max)
        while Date() < deadline {
            let (screen, screenVersion) = client.screen()
            if screenVersion != seen.screen, screen.contains(text) { return }
            let (serial, serialVersion) = client.serial()
            if serialVersion != seen.serial, serial.text.contains(text) { return }
            seen = (screenVersion, serialVersion)
            if !client.state.isActive, client.screen().version == screenVersion, client.serial().version == serialVersion {
                throw CLIError(message: "\(name) stopped before \"\(text)\" showed: \(client.state)")
            }
            Thread.sleep(forTimeInterval: 0.01)
        }
        throw CLIError(message: "\(name): \"\(text)\" did not show on the screen or COM1 within \(timeout) s")
    }
}
