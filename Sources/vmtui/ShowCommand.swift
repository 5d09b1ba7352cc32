import ArgumentParser
import Engine
import Foundation

struct ShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show one VM's settings.")

    @Argument(help: "The VM's name.")
    var name: String

    @Flag(help: "Print the config as JSON (the same format as config.json).")
    var json = false

    func run() throws {
        let library = VMLibrary()
        let config = try library.load(name: name)
        if json { try CLIOutput.json(config); return }
        print(config.name)
        for (label, value) in config.details(library: library) {
            print("  \(label.padding(toLength: 9, withPad: " ", startingAt: 0))\(value)")
        }
        print("  \("Bundle".padding(toLength: 9, withPad: " ", startingAt: 0))\(library.bundleURL(name: name).path)")
    }
}
