import ArgumentParser
import Engine

@main
struct VMTUICommand: ParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "vmtui",
        abstract: "A text-mode virtual machine manager with its own PC engine.",
        version: version,
        subcommands: [RunCommand.self]
    )

    func run() throws {
        print("vmtui \(VMTUICommand.version): the interactive screen is not built yet.")
    }
}
