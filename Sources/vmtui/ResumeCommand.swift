import ArgumentParser
import Engine
import Foundation

struct ResumeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resume",
        abstract: "Resume a paused VM.",
        discussion: "A VM paused because its host disk was full retries the write that found no space: free space "
            + "on that file system first. If it is still full, the VM pauses again and says so.")

    @Argument(help: "The VM's name.")
    var name: String

    func run() throws {
        let client = try VMLauncher.attach(name)
        client.resume()
        print("\(name): \(try PauseCommand.settle(client) { !$0.isPaused })")
    }
}
