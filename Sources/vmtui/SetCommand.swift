import ArgumentParser
import Engine
import Foundation

struct SetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set",
        abstract: "Change settings of a VM.",
        discussion: "Keys:\n" + VMConfig.settingKeys.map { "  \($0.key.padding(toLength: 15, withPad: " ", startingAt: 0))\($0.help)" }
            .joined(separator: "\n") + "\n\nExample: vmtui set web memory=512 network=bridge:br0 iso=/tmp/debian.iso"
    )

    @Argument(help: "The VM's name.")
    var name: String

    @Argument(help: "KEY=VALUE settings.")
    var settings: [String]

    func validate() throws {
        if settings.isEmpty { throw ValidationError("give at least one KEY=VALUE, e.g. memory=512") }
    }

    func run() throws {
        let library = VMLibrary()
        // Not validated until saved, so a value that is out of range can be set right.
        var config = try library.load(name: name, validating: false)
        guard config.name == name else {
            throw CLIError(message: "\(library.configURL(name: name).path): name is \"\(config.name)\" but the bundle is \(name).vmtui; "
                           + "fix the name in the file", code: 2)
        }
        for setting in settings {
            try config.apply(setting: PathArgument.absoluteSetting(setting))
        }
        try library.save(config)
        // A running VM switches at once (its process swaps the backend); other settings wait for its next start.
        // Port forwards too: NAT listens on the new host ports at once.
        let live = ["network=", "forwards="].filter { key in settings.contains { $0.lowercased().hasPrefix(key) } }
        if !live.isEmpty {
            let processes = VMProcesses()
            processes.scan()
            for key in live {
                let notice = key == "network=" ? processes.switchNetwork(name, to: config.network)
                    : processes.setPortForwards(name, to: config.network)
                if let notice {
                    if notice.isError { CLIOutput.warn(notice.text) } else { print("\(name): \(notice.text)") }
                }
            }
        }
        if config.mode == .virtualize, case let kvm = KVMAvailability.probe(), !kvm.isAvailable {
            CLIOutput.warn("Virtualize: \(kvm.explanation)")
        }
        print("updated \(name)")
    }
}
