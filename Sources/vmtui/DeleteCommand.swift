import ArgumentParser
import Engine
import Foundation

struct DeleteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete", abstract: "Delete a VM and the disk images inside its bundle.")

    @Argument(help: "The VM's name.")
    var name: String

    @Flag(help: "Do not ask for confirmation.")
    var yes = false

    func run() throws {
        let library = VMLibrary()
        guard library.exists(name: name) else {
            throw VMConfigError.notFound(name: name, bundle: library.bundleURL(name: name).path)
        }
        if !yes {
            guard isatty(STDIN_FILENO) == 1 else {
                throw CLIError(message: "delete \(name): not confirmed; pass --yes to delete without asking", code: 2)
            }
            print("Delete VM \(name) and the disk images in \(library.bundleURL(name: name).path)? [y/N] ", terminator: "")
            guard let answer = readLine(), ["y", "yes"].contains(answer.lowercased()) else {
                print("kept \(name)")
                return
            }
        }
        try library.delete(name: name)
        print("deleted \(name)")
    }
}
