import Foundation
import Testing
@testable import Engine

/// barotto/test386.asm, a BIOS-ROM CPU tester nobody here wrote, run on the bare interpreter.
/// `scripts/test386 DIR` points `VMTUI_TEST386_DIR` at a folder holding a `test386.bin` built
/// outside this repository (128 KiB ROM, text on port 0xE9) and its
/// `test386-EE-reference.txt`; without it this test skips.
@Suite struct Test386Tests {
    /// POST codes (port 0x190) and ASCII text (port 0xE9).
    final class Board: PortDevice {
        var post: [UInt8] = []
        var text: [UInt8] = []
        func portRead(_ port: UInt16, width: Int) -> UInt32 { PortMap.allOnes(width) }
        func portWrite(_ port: UInt16, width: Int, value: UInt32) {
            if port == 0x190 { post.append(UInt8(value & 0xFF)) } else { text.append(UInt8(value & 0xFF)) }
        }
    }

    struct Result {
        var lastPOST: UInt8?
        var posts: [UInt8]
        var text: String
        var exit: BackendExit
        var registers: String
    }

    /// Maps the ROM at the top of the first MiB and of the address space, resets the CPU and
    /// runs until it halts (test386 ends every run, good or bad, with HLT). With `traceTail`, it
    /// single-steps and lists the last `traceTail` instructions before the stop.
    static func run(rom: Data, budget: Int = 150_000_000, traceTail: Int = 0) throws -> Result {
        let memory = try MemoryMap(ramSize: 1 << 20)
        let image = UnsafeMutableRawPointer.allocate(byteCount: rom.count, alignment: 4096)
        defer { image.deallocate() }
        rom.copyBytes(to: image.assumingMemoryBound(to: UInt8.self), count: rom.count)
        memory.setPages(from: UInt32(0x10_0000 - rom.count), size: rom.count, readFrom: image, writeTo: nil)
        memory.setPages(from: UInt32(truncatingIfNeeded: 0x1_0000_0000 - rom.count), size: rom.count, readFrom: image, writeTo: nil)
        let ports = PortMap()
        let board = Board()
        ports.register(board, ports: 0x190...0x190)
        ports.register(board, ports: 0xE9...0xE9)
        let cpu = Interpreter(memory: memory, ports: ports)
        cpu.reset()
        var exit = BackendExit.sliceExpired
        var recent: [String] = []
        if traceTail > 0 {
            // Single-step until the guest parks in a jump-to-self (test386's ring-3 error loop)
            // or stops, keeping the last `traceTail` CS:EIPs.
            var ring = [(UInt16, UInt32)](repeating: (0, 0), count: traceTail)
            var n = 0
            while Int(cpu.instructionsRetired) < budget {
                let here = (cpu.seg[SegReg.cs].selector, cpu.state.pointee.eip)
                ring[n % traceTail] = here
                n += 1
                exit = cpu.run(instructions: 1)
                if exit != .sliceExpired || cpu.state.pointee.eip == here.1 { break }
            }
            for k in max(0, n - traceTail)..<n {
                recent.append("\(cpu.hex16(ring[k % traceTail].0)):\(cpu.hex32(ring[k % traceTail].1))")
            }
        } else {
            while Int(cpu.instructionsRetired) < budget {
                exit = cpu.run(instructions: 1_000_000)
                if exit != .sliceExpired { break }
            }
        }
        return Result(lastPOST: board.post.last, posts: board.post, text: String(decoding: board.text, as: UTF8.self),
                      exit: exit, registers: cpu.registerDump + (recent.isEmpty ? "" : "\nlast: " + recent.joined(separator: " ")))
    }

    // scripts/test386 builds the ROM and sets VMTUI_TEST386_DIR; without it there is nothing to run.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["VMTUI_TEST386_DIR"] != nil,
                   "VMTUI_TEST386_DIR is not set: run scripts/test386 to build the test386 ROM"))
    func test386ReachesTheEndAndMatchesTheReference() throws {
        let dir = try #require(ProcessInfo.processInfo.environment["VMTUI_TEST386_DIR"])
        let folder = URL(fileURLWithPath: dir)
        let rom = try Data(contentsOf: folder.appendingPathComponent("test386.bin"))
        let reference = try String(contentsOf: folder.appendingPathComponent("test386-EE-reference.txt"), encoding: .utf8)
        var r = try Self.run(rom: rom)
        if r.lastPOST != 0xFF, ProcessInfo.processInfo.environment["VMTUI_TEST386_TRACE"] != nil {
            // Deterministic: run again single-stepped and list the instructions before the stop.
            r = try Self.run(rom: rom, traceTail: 48)
        }
        let hexPOST = r.posts.map { String($0, radix: 16, uppercase: true) }.joined(separator: " ")
        print("test386 POST codes: \(hexPOST); exit \(r.exit)")
        try r.text.write(to: folder.appendingPathComponent("vmtui-EE-output.txt"), atomically: true, encoding: .utf8)
        #expect(r.lastPOST == 0xFF, "test386 stopped at POST \(hexPOST.split(separator: " ").last ?? "none"); exit \(r.exit)\n\(r.registers)")
        let mine = r.text.split(separator: "\n", omittingEmptySubsequences: false)
        let theirs = reference.split(separator: "\n", omittingEmptySubsequences: false)
        let differing = zip(mine, theirs).enumerated().filter { $0.element.0 != $0.element.1 }
        for (line, pair) in differing.prefix(20) {
            print("test386 EE line \(line + 1):\n  vmtui     \(pair.0)\n  reference \(pair.1)")
        }
        print("test386 EE: \(theirs.count - differing.count - abs(theirs.count - mine.count)) of \(theirs.count) reference lines match")
        #expect(differing.isEmpty && mine.count == theirs.count, "\(differing.count) EE lines differ, \(mine.count) vs \(theirs.count) lines")
    }
}
