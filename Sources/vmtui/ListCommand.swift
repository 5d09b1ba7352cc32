import ArgumentParser
import Engine

struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the virtual machines.")

    @Flag(help: "Print JSON: name, state and, for usable VMs, the config.")
    var json = false

    struct Item: Encodable {
        var name: String
        var state: String
        var reason: String?
        var config: VMConfig?
    }

    func run() throws {
        let library = VMLibrary()
        let entries = library.list()
        if json {
            try CLIOutput.json(entries.map { entry -> Item in
                switch entry {
                case let .vm(config): Item(name: config.name, state: "stopped", config: config)
                case let .broken(name, reason): Item(name: name, state: "broken", reason: reason)
                }
            })
            return
        }
        if entries.isEmpty {
            print("no VMs yet in \(library.vmsDirectory.path); create one with `vmtui create NAME` or in `vmtui`")
            return
        }
        let rows = entries.map { entry -> [String] in
            switch entry {
            case let .vm(c): [c.name, "stopped", c.modeShort, c.osLabel, "\(c.memoryMiB) MiB", c.networkSummary]
            case let .broken(name, _): [name, "broken", "", "", "", ""]
            }
        }
        print(TextTable.render(header: ["NAME", "STATE", "MODE", "OS", "MEMORY", "NETWORK"], rows: rows))
        // Why a VM is broken goes under the table: a long reason in a column would widen it for every row.
        for case let .broken(name, reason) in entries { print("\(name) is broken: \(reason)") }
    }
}
