import ArgumentParser
import Engine
import Foundation

/// `vmtui run NAME`: on a terminal, the VM's console in the TUI; with --headless (or without a
/// terminal, or with options only a headless run has) boots it without the TUI and reports what
/// its screen shows.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a virtual machine: its console on a terminal, or headless (prints the final VGA text screen).",
        discussion: """
            On a terminal, vmtui run NAME opens the TUI with NAME's console, as vmtui --start NAME. --headless, a NAME-less run (--config, --kernel), no terminal, or any option below except --headless itself runs it without the TUI.

            Exit status: 0 when --until-text matched (or the guest powered off), 1 on timeout, triple fault or guest failure, 2 for usage or configuration errors, 130 after Ctrl-C. A guest write of V to the debug-exit port 0xF4 ends the run with status (V << 1) | 1, as QEMU's isa-debug-exit.

            --kernel boots a multiboot (v1) kernel as QEMU's -kernel does: SeaBIOS starts, then runs QEMU's multiboot option ROM (/usr/share/qemu/multiboot.bin from Debian's qemu-system-data) as the first boot device; it loads the kernel (ELF32 or a.out kludge) and the multiboot information (memory sizes, E820 memory map, command line = file name + --append, boot loader name) and enters the kernel in 32-bit flat protected mode, paging off, A20 on, EAX = 0x2BADB002, EBX = the information's address. Without a VM NAME or --config the kernel runs on a 128 MiB PC with no disks, e.g. vmtui run --kernel x86/emulator.flat --headless --serial stdio --timeout 60
            """
    )

    @Argument(help: "The VM's name in the library (or use --config, or only --kernel).")
    var name: String?

    @Option(help: "Path to a config.json to run instead of a library VM.")
    var config: String?

    @Flag(help: "Run without the TUI: print the final screen (implied by the other options and without a terminal).")
    var headless = false

    @Option(help: "Where COM1 goes: 'stdio' connects it to this terminal, 'none' drops it.")
    var serial: String = "none"

    @Option(help: "Write the guest's debug console (ports 0x402/0xE9, the SeaBIOS log) to FILE.")
    var debugcon: String?

    @Option(name: .customLong("until-text"), help: "Stop with status 0 once the screen shows TEXT (repeatable).")
    var untilText: [String] = []

    @Option(help: "Give up after SECONDS with status 1.")
    var timeout: Double?

    @Option(name: .customLong("screen-dump"), help: "Also write the final screen to FILE.")
    var screenDump: String?

    @Option(help: "Use this BIOS image instead of the VM's or Debian's SeaBIOS.")
    var bios: String?

    @Option(name: .customLong("type"), help: "Type TEXT on the guest keyboard (\\n is Enter) once the screen shows --type-after, or at start.")
    var typeText: String?

    @Option(name: .customLong("type-after"), help: "Screen text that triggers --type.")
    var typeAfter: String?

    @Option(help: "Boot this multiboot kernel (ELF32 or a.out kludge) through SeaBIOS, as QEMU's -kernel.")
    var kernel: String?

    @Option(help: "The rest of the --kernel command line (after the file name).")
    var append: String?

    @Flag(name: .customLong("pc-testdev"), help: "Add QEMU's pc-testdev (scratch ports 0xE0/0xE8, IRQ ports 0x2000, 64 KiB MMIO at 0xFF000000), which kvm-unit-tests expect.")
    var pcTestDev = false

    @Flag(help: "Derive time from instructions retired (reproducible) instead of the host clock.")
    var deterministic = false

    func validate() throws {
        guard name == nil || config == nil, name != nil || config != nil || kernel != nil else {
            throw ValidationError("give either a VM NAME, --config PATH or --kernel FILE")
        }
        if append != nil && kernel == nil { throw ValidationError("--append needs --kernel FILE") }
        guard ["stdio", "none"].contains(serial) else {
            throw ValidationError("--serial must be 'stdio' or 'none', not '\(serial)'")
        }
        if let timeout, timeout <= 0 { throw ValidationError("--timeout must be a positive number of seconds") }
    }

    /// Whether this run belongs in the TUI: a library VM, on a terminal, nothing headless asked for.
    private var interactive: Bool {
        guard !headless, name != nil, config == nil, kernel == nil, isatty(0) == 1, isatty(1) == 1 else { return false }
        return untilText.isEmpty && timeout == nil && screenDump == nil && bios == nil && typeText == nil
            && typeAfter == nil && !pcTestDev && !deterministic && serial == "none" && debugcon == nil
    }

    func run() throws {
        let (vmConfig, baseDirectory) = try loadConfig()
        if interactive {
            try MainApp(library: VMLibrary(), themeName: nil, selectedVM: name, startSelected: true).run()
            return
        }
        let machine: Machine
        do {
            machine = try Machine.assemble(config: vmConfig, baseDirectory: baseDirectory,
                                           biosOverride: bios,
                                           timeMode: deterministic ? .deterministic(nanosecondsPerInstruction: 10) : .realtime)
            if pcTestDev { machine.attachPCTestDev() }
            if let kernel {
                try machine.bootMultiboot(try MultibootLoader(path: kernel, append: append ?? ""),
                                          optionROM: try MultibootLoader.optionROM())
            }
        } catch {
            fail("\(error)")
        }
        for warning in machine.warnings { FileHandle.standardError.write(Data("vmtui: warning: \(warning)\n".utf8)) }

        var options = HeadlessRunner.Options()
        options.untilText = untilText
        options.timeoutSeconds = timeout
        options.serialStdio = serial == "stdio"
        options.debugconPath = debugcon
        options.typeScancodes = GuestKeyStroke.set2Bytes(typing: (typeText ?? "").replacingOccurrences(of: "\\n", with: "\n"))
        options.typeAfter = typeAfter
        let runner: HeadlessRunner
        do { runner = try HeadlessRunner(machine: machine, options: options) } catch { fail("\(error)") }
        HostInterrupt.install()
        let outcome = runner.run()

        let screen = machine.screen()
        let text = screen.report
        print(text)
        if let screenDump {
            do { try (text + "\n").write(toFile: screenDump, atomically: true, encoding: .utf8) } catch {
                FileHandle.standardError.write(Data("vmtui: cannot write \(screenDump): \(FileErrorText.describe(error))\n".utf8))
            }
        }
        let status = outcome.exitStatus(waitedForText: !untilText.isEmpty)
        if status != 0 {
            FileHandle.standardError.write(Data("vmtui: \(runner.report(outcome))\n".utf8))
            if case .stopped(.tripleFault) = outcome, let cpu = machine.cpu as? Interpreter {
                FileHandle.standardError.write(Data((cpu.registerDump + "\n").utf8))
            }
        }
        throw ExitCode(status)
    }

    /// The VM's config and bundle directory, validated as every other command loads it; with
    /// only --kernel, a 128 MiB PC without disks.
    private func loadConfig() throws -> (VMConfig, String?) {
        let library = VMLibrary()
        if let name { return (try library.load(name: name), library.bundleURL(name: name).path) }
        if let config {
            let url = URL(fileURLWithPath: config)
            return (try library.load(configFile: url), url.deletingLastPathComponent().path)
        }
        return (VMConfig(name: "kernel", osType: .other, bootOrder: [], network: VMConfig.Network(mode: .none)), nil)
    }

    private func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("vmtui: \(message)\n".utf8))
        Foundation.exit(2)
    }
}
