import ArgumentParser
import Engine
import Foundation

struct StartCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "start",
        abstract: "Start a VM in a process of its own; it keeps running after vmtui and the terminal close.",
        discussion: "A VM that is already running is attached instead (on a terminal). Its output goes to NAME.vmtui/vm.log.")

    @Argument(help: "The VM's name.")
    var name: String

    func run() throws {
        let library = VMLibrary()
        guard library.exists(name: name) else { throw VMConfigError.notFound(name: name, bundle: library.bundleURL(name: name).path) }
        _ = try library.load(name: name)
        let run = try RunDirectory.standard()
        let (client, started) = try VMLauncher.start(name, run: run)
        if !started, isatty(STDIN_FILENO) == 1, isatty(STDOUT_FILENO) == 1 {
            client.close()
            try MainApp(library: library, themeName: nil, selectedVM: name, startSelected: true).run()
            return
        }
        // Building the machine can still fail (a locked image, bad firmware): wait to see it run.
        let deadline = Date().addingTimeInterval(10)
        while client.state == .starting, Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        if case .stopped = client.state {
            throw CLIError(message: "\(name) did not start: \(client.state) (see \(library.bundleURL(name: name).path)/vm.log)")
        }
        let pid = run.record(name).map { " (pid \($0.pid))" } ?? ""
        print(started ? "started \(name)\(pid)" : "\(name) is already running\(pid)")
        if let advice = run.lingerAdvice { CLIOutput.warn(advice) }
        client.close()
    }
}
