import ArgumentParser
import Engine

struct AttachCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attach", abstract: "Open a running VM's console (Ctrl-] q detaches; the VM keeps running).")

    @Argument(help: "The VM's name.")
    var name: String

    func run() throws {
        try VMLauncher.attach(name).close()
        try MainApp(library: VMLibrary(), themeName: nil, selectedVM: name, startSelected: true).run()
    }
}
