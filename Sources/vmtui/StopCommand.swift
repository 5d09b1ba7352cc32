import ArgumentParser
import Engine
import Foundation

struct StopCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stop",
        abstract: "Shut a running VM down: the ACPI power button, then the power is cut after --timeout.",
        discussion: "A guest with no ACPI OS running (a boot loader, DOS, the test guests) has its power cut at once, as a "
            + "PC's power button would. The VM also cuts the power itself after its own grace time (10 s).")

    @Argument(help: "The VM's name.")
    var name: String

    @Flag(help: "Cut the power at once instead of asking the guest to shut down.")
    var force = false

    @Option(help: "Seconds the guest gets to shut down after the power button before the power is cut (default 10).")
    var timeout: Double = 10

    func validate() throws {
        if timeout <= 0 { throw ValidationError("--timeout must be a positive number of seconds") }
    }

    func run() throws {
        let client = try VMLauncher.attach(name)
        if force { client.powerOff() } else { client.requestPowerOff() }
        if !client.waitUntilStopped(timeout: .milliseconds(Int(timeout * 1000))) {
            CLIOutput.warn("\(name) did not shut down within \(timeout) s: cutting the power")
            client.powerOff()
            guard client.waitUntilStopped(timeout: .seconds(5)) else {
                throw CLIError(message: "\(name) did not stop; its process is \(pidText)")
            }
        }
        // Done when the process has ended: its images and bundle are free then.
        let deadline = Date().addingTimeInterval(5)
        while client.isConnected, Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        print("stopped \(name): \(client.state)")
    }

    private var pidText: String {
        (try? RunDirectory.standard().record(name)).flatMap { $0 }.map { "pid \($0.pid) (kill -9 \($0.pid) ends it)" } ?? "gone"
    }
}
