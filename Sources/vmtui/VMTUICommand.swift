import ArgumentParser
import Engine
import Foundation
import TUI

@main
struct VMTUICommand: ParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "vmtui",
        abstract: "A text-mode virtual machine manager with its own PC engine.",
        discussion: "With no subcommand, opens the interactive screen.",
        version: version,
        subcommands: [
            ListCommand.self,
            CreateCommand.self,
            ShowCommand.self,
            SetCommand.self,
            DeleteCommand.self,
            DiskCommand.self,
            RunCommand.self,
            StartCommand.self,
            AttachCommand.self,
            StopCommand.self,
            PauseCommand.self,
            ResumeCommand.self,
            ConsoleCommand.self,
            ScreenCommand.self,
            TypeCommand.self,
            WaitCommand.self,
            BenchCommand.self,
            MonitorCommand.self,
            VMProcessCommand.self,
        ]
    )

    @Option(help: "Colour theme for the interactive screen (default, dark, light, high-contrast, monochrome, or your own).")
    var theme: String?

    @Option(help: "Select this VM when the screen opens.")
    var select: String?

    @Option(help: "Start this VM and open its console when the screen opens.")
    var start: String?

    func run() throws {
        try MainApp(library: VMLibrary(), themeName: theme, selectedVM: start ?? select, startSelected: start != nil).run()
    }

    /// Exit codes: 0 ok, 1 failure, 2 usage or validation error; the message goes to stderr.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let error as VMConfigError {
            CLIOutput.fail(error.description, code: error.exitCode)
        } catch let error as FirmwareError {
            CLIOutput.fail(error.description, code: 2)
        } catch let error as TerminalError {
            CLIOutput.fail(error.message, code: 1)
        } catch let error as CLIError {
            CLIOutput.fail(error.message, code: error.code)
        } catch {
            if exitCode(for: error) == .validationFailure {
                CLIOutput.fail(fullMessage(for: error), code: 2)
            }
            exit(withError: error)
        }
    }
}
