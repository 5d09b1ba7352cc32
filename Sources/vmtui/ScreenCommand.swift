import ArgumentParser
import Engine
import Foundation

struct ScreenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "screen", abstract: "Print a running VM's text screen.")

    @Argument(help: "The VM's name.")
    var name: String

    func run() throws {
        let client = try VMLauncher.attach(name)
        defer { client.close() }
        // The VM sends its whole screen right after the welcome.
        let deadline = Date().addingTimeInterval(5)
        while client.screen().version == 0, Date() < deadline { Thread.sleep(forTimeInterval: 0.005) }
        print(client.screen().screen.report)
    }
}
