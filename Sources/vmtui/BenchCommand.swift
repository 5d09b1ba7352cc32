import ArgumentParser
import Engine
import Foundation

/// `vmtui bench cpu`: guest MIPS of the interpreter (scripts/bench-cpu compares with QEMU and Bochs);
/// `vmtui bench console`: keystroke-to-screen latency (scripts/bench-console-latency).
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure the engine.",
        subcommands: [CPU.self, Console.self])

    struct CPU: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Guest MIPS of the software CPU on a CPU-bound 32-bit protected-mode guest.",
            discussion: "Without --boot-sector, runs the built-in guest for --instructions instructions. "
                + "With --boot-sector FILE, runs that boot sector (loaded at 0000:7C00, no BIOS) until it "
                + "writes port 0xF4 and halts, as scripts/bench-cpu does for QEMU and Bochs.")

        @Option(help: "A 512-byte boot sector image (or a floppy image starting with one).") var bootSector: String?
        @Option(help: "Instructions for the built-in guest.") var instructions: Int = 300_000_000

        func run() throws {
            let result: InterpreterBenchmark
            if let path = bootSector {
                guard let data = FileManager.default.contents(atPath: path) else {
                    throw ValidationError("cannot read \(path): check the path")
                }
                result = try Interpreter.benchmark(bootSector: [UInt8](data.prefix(512)))
            } else {
                guard instructions > 0 else { throw ValidationError("--instructions must be positive") }
                result = try Interpreter.benchmark(instructions: instructions)
            }
            print(result)
        }
    }
}
