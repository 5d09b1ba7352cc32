import ArgumentParser
import Engine
import Foundation

struct PauseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pause", abstract: "Pause a running VM: no guest code runs and its clock stops until `vmtui resume`.")

    @Argument(help: "The VM's name.")
    var name: String

    func run() throws {
        let client = try VMLauncher.attach(name)
        client.pause()
        print("\(name): \(try PauseCommand.settle(client) { $0.isPaused })")
    }

    /// The state once `done` holds for it (or after a few seconds, whatever it is then).
    static func settle(_ client: VMClient, until done: (VMState) -> Bool) throws -> VMState {
        let deadline = Date().addingTimeInterval(5)
        while !done(client.state), client.isConnected, Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        let state = client.state
        client.close()
        return state
    }
}
