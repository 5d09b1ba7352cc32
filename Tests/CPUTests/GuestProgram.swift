import Foundation
import TestSupport
import Testing
@testable import Engine

/// A self-checking nasm guest, assembled at test time (`nasm -f bin`, never committed as a
/// binary), loaded at 0x1000 and started in real mode at 0000:1000. It reports through port
/// 0xE9 (one byte per character) and ends with HLT.
struct GuestProgram {
    static let nasm = "/usr/bin/nasm"
    static var available: Bool { FileManager.default.isExecutableFile(atPath: nasm) }
    /// The trait of a test or suite that assembles guests: skipped, saying why, without nasm.
    static var needsNASM: ConditionTrait { .enabled(if: available, "needs nasm to assemble the guest (apt-get install nasm)") }

    /// Collects what the guest writes to port 0xE9.
    final class Console: PortDevice {
        var bytes: [UInt8] = []
        var text: String { String(decoding: bytes, as: UTF8.self) }
        func portRead(_ port: UInt16, width: Int) -> UInt32 { 0xE9 }
        func portWrite(_ port: UInt16, width: Int, value: UInt32) { bytes.append(UInt8(value & 0xFF)) }
    }

    struct Outcome {
        var output: String
        var bytes: [UInt8]
        var exit: VCPUExit
        var cpu: Interpreter
        var memory: MemoryMap
    }

    enum Failure: Error, CustomStringConvertible {
        case assembler(String)
        var description: String {
            switch self { case .assembler(let log): return "nasm failed: \(log)" }
        }
    }

    /// Tests/guests/cpu: guests and include files shared with the nested KVM suite.
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("guests/cpu").path

    /// The text of `name` in `directory`.
    static func source(_ name: String) -> String {
        (try? String(contentsOfFile: directory + "/" + name, encoding: .utf8)) ?? "%error \"\(name) is missing\""
    }

    static func assemble(_ source: String) throws -> [UInt8] {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vmtui-cpu-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let asm = dir.appendingPathComponent("guest.asm")
        let bin = dir.appendingPathComponent("guest.bin")
        try source.write(to: asm, atomically: true, encoding: .utf8)
        let run = try runHostProgram(nasm, ["-f", "bin", "-i", directory + "/", "-o", bin.path, asm.path])
        if run.status != 0 { throw Failure.assembler(run.output) }
        return [UInt8](try Data(contentsOf: bin))
    }

    /// Assembles and runs `source` for at most `budget` instructions.
    static func run(_ source: String, budget: Int = 5_000_000) throws -> Outcome {
        try run(binary: try assemble(source), at: 0x1000, budget: budget)
    }

    /// `code` loaded at `address` (below 64 KiB) in 16 MiB of RAM, and a CPU on `ports` in real
    /// mode about to run it at 0000:address.
    static func load(_ code: [UInt8], at address: UInt32 = 0x1000, ports: PortMap) throws -> (Interpreter, MemoryMap) {
        let memory = try MemoryMap(ramSize: 16 << 20)
        for (i, b) in code.enumerated() { memory.write(address + UInt32(i), width: 1, value: UInt32(b)) }
        let cpu = Interpreter(memory: memory, ports: ports)
        cpu.loadRealCS(0)
        cpu.state.pointee.eip = address
        return (cpu, memory)
    }

    /// Runs an image loaded at `address` (below 64 KiB), starting at 0000:address.
    static func run(binary code: [UInt8], at address: UInt32, budget: Int) throws -> Outcome {
        let ports = PortMap()
        let console = Console()
        ports.register(console, ports: 0xE9...0xE9)
        let (cpu, memory) = try load(code, at: address, ports: ports)
        var exit = VCPUExit.deadlineReached
        var left = budget
        while left > 0 {
            exit = cpu.run(instructions: min(left, 100_000))
            if exit != .deadlineReached { break }
            left -= 100_000
        }
        return Outcome(output: console.text, bytes: console.bytes, exit: exit, cpu: cpu, memory: memory)
    }
}
