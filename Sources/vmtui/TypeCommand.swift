import ArgumentParser
import Engine
import Foundation

struct TypeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "type", abstract: "Type TEXT on a running VM's keyboard (US layout; \\n is Enter).")

    @Argument(help: "The VM's name.")
    var name: String

    @Argument(help: "What to type; \\n is Enter, \\t Tab.")
    var text: String

    func run() throws {
        let typed = text.replacingOccurrences(of: "\\n", with: "\n").replacingOccurrences(of: "\\t", with: "\t")
        let missing = Set(typed.unicodeScalars.filter { GuestKeyStroke(typing: Character($0)) == nil })
        let client = try VMLauncher.attach(name)
        // One message: the VM's KeyFeeder hands the keys to the guest at typing pace.
        client.send(scancodes: typed.unicodeScalars.compactMap { GuestKeyStroke(typing: Character($0)) }.flatMap(\.set2Bytes))
        client.close()
        if !missing.isEmpty {
            throw CLIError(message: "typed all but \(missing.sorted().map { "'\($0)'" }.joined(separator: ", ")): "
                + "no key on the guest's US keyboard makes them")
        }
    }
}
