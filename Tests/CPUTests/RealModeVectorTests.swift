import Foundation
import TestSupport
import Testing
@testable import Engine

/// Runs the SingleStepTests 80286 real-mode vectors (../shared/cpu-tests, README there) on
/// the interpreter: one test over all files, printing a per-file pass-rate table.
@Suite struct RealModeVectorTests {
    static let folder = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("shared/cpu-tests/80286-real-mode")

    /// Flags the 80286 leaves undefined (Intel's 286/386 manuals), compared under a mask:
    static let undefinedFlags: [String: UInt32] = {
        let of: UInt32 = 0x800, af: UInt32 = 0x10, cf: UInt32 = 0x1, sf: UInt32 = 0x80, zf: UInt32 = 0x40, pf: UInt32 = 0x4
        var m: [String: UInt32] = [:]
        // AND/OR/XOR/TEST: AF undefined.
        for f in ["08", "09", "0A", "0B", "0C", "0D", "20", "21", "22", "23", "24", "25", "30", "31", "32", "33", "34", "35",
                  "84", "85", "A8", "A9", "80.1", "80.4", "80.6", "81.1", "81.4", "81.6", "82.1", "82.4", "82.6",
                  "83.1", "83.4", "83.6", "F6.0", "F6.1", "F7.0", "F7.1"] { m[f] = af }
        // MUL/IMUL: SF ZF AF PF undefined. DIV/IDIV: all six.
        for f in ["F6.4", "F6.5", "F7.4", "F7.5", "69", "6B"] { m[f] = sf | zf | af | pf }
        for f in ["F6.6", "F6.7", "F7.6", "F7.7"] { m[f] = of | sf | zf | af | pf | cf }
        // Shifts and rotates: OF undefined for counts other than 1, AF for shifts.
        for op in ["C0", "C1", "D0", "D1", "D2", "D3"] { for r in 0..<8 { m["\(op).\(r)"] = of | af } }
        // BCD adjusts.
        m["27"] = of; m["2F"] = of
        m["37"] = of | sf | zf | pf; m["3F"] = of | sf | zf | pf
        m["D4"] = of | af | cf; m["D5"] = of | af | cf
        return m
    }()

    /// Minimum pass rate (percent) per file where a 386 cannot match the 286; 100 otherwise.
    static let expectedRate: [String: Int] = [:]

    struct Outcome { var passed = 0; var total = 0; var skipped = 0; var firstFailure = "" }

    /// Vectors where the 80286 differs from any 386 by design; each skip says why.
    static func skipReason(_ test: [String: Any], file: String) -> String? {
        let bytes = test["bytes"] as? [Int] ?? []
        let exception = (test["exception"] as? [String: Any])?["number"] as? Int
        let opcode = bytes.first { ![0x26, 0x2E, 0x36, 0x3E, 0xF0, 0xF2, 0xF3].contains($0) } ?? 0
        // The 286 limits instructions to 10 bytes (#GP); the 386 allows 15.
        if exception == 13 && bytes.count - 1 > 10 { return "286 10-byte instruction limit" }
        // A faulting 286 string instruction has already stepped SI/DI; a 386 restarts cleanly.
        if exception == 13 && [0x6C, 0x6D, 0x6E, 0x6F, 0xA4, 0xA5, 0xA6, 0xA7, 0xAA, 0xAB, 0xAC, 0xAD, 0xAE, 0xAF].contains(opcode) {
            return "286 string fault after index update"
        }
        // The 286 ignores LOCK on any instruction; a 386 raises #UD unless it is a
        // read-modify-write with a memory destination (test386 POST 12 checks the 386 rule).
        if bytes.prefix(while: { $0 != opcode }).contains(0xF0) { return "LOCK prefix: 286 ignores it, 386 may #UD" }
        // MOV to/from FS/GS (sreg 4, 5) is #UD on a 286, valid on a 386.
        if (file == "8C" || file == "8E"), let i = bytes.firstIndex(of: opcode), i + 1 < bytes.count,
           [4, 5].contains((bytes[i + 1] >> 3) & 7) {
            return "FS/GS do not exist on a 286"
        }
        return nil
    }

    // The vectors are not in git: they live in ../shared beside the project root.
    @Test(.enabled(if: FileManager.default.fileExists(atPath: folder.path), "the 80286 vectors are absent (they live in ../shared beside the project root)"))
    func allOpcodeFiles() throws {
        let fm = FileManager.default
        let names = try fm.contentsOfDirectory(atPath: Self.folder.path)
        let files = names.filter { $0.hasSuffix(".json.gz") }.sorted()
        #expect(!files.isEmpty)
        let memory = try MemoryMap(ramSize: 0x120_0000)
        let cpu = Interpreter(memory: memory, ports: PortMap())
        var report: [String] = []
        var allPassed = 0, allTotal = 0, allSkipped = 0
        for file in files {
            let key = String(file.dropLast(".json.gz".count))
            let tests = try Self.load(Self.folder.appendingPathComponent(file))
            var outcome = Outcome()
            let debug = ProcessInfo.processInfo.environment["CPU_VECTOR_DEBUG"] == key
            for test in tests {
                if Self.skipReason(test, file: key) != nil { outcome.skipped += 1; continue }
                outcome.total += 1
                if let failure = Self.run(test, cpu: cpu, memory: memory, flagMask: 0x0FFF & ~(Self.undefinedFlags[key] ?? 0)) {
                    if outcome.firstFailure.isEmpty { outcome.firstFailure = failure }
                    if debug { print("FAIL \(failure)\n  \(test["initial"] ?? "")\n  \(test["final"] ?? "") \(test["exception"] ?? "")") }
                } else {
                    outcome.passed += 1
                }
            }
            allPassed += outcome.passed
            allTotal += outcome.total
            let rate = outcome.passed * 100 / max(outcome.total, 1)
            allSkipped += outcome.skipped
            report.append("\(key.padding(toLength: 5, withPad: " ", startingAt: 0)) \(outcome.passed)/\(outcome.total)"
                          + (outcome.skipped > 0 ? " (\(outcome.skipped) skipped)" : "")
                          + (outcome.firstFailure.isEmpty ? "" : "  first failure: \(outcome.firstFailure)"))
            #expect(rate >= (Self.expectedRate[key] ?? 100), "\(key): \(outcome.passed)/\(outcome.total) \(outcome.firstFailure)")
        }
        print(report.joined(separator: "\n"))
        print("80286 real-mode vectors: \(allPassed)/\(allTotal) passed in \(files.count) files, \(allSkipped) skipped as 286-only behaviour")
    }

    static func load(_ url: URL) throws -> [[String: Any]] {
        let gzip = try HostProcess("/bin/gzip", ["-dc", url.path], stdout: .pipe)
        let json = gzip.finish().output
        return try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]] ?? []
    }

    static let regOrder = ["ax", "cx", "dx", "bx", "sp", "bp", "si", "di"]
    static let segOrder = ["es", "cs", "ss", "ds"]

    /// Runs one vector; returns nil on a pass or a description of the first difference.
    static func run(_ test: [String: Any], cpu: Interpreter, memory: MemoryMap, flagMask: UInt32) -> String? {
        let name = test["name"] as? String ?? "?"
        guard let initial = test["initial"] as? [String: Any], let final = test["final"] as? [String: Any],
              let iregs = initial["regs"] as? [String: Int], let iram = initial["ram"] as? [[Int]],
              let fregs = final["regs"] as? [String: Int], let fram = final["ram"] as? [[Int]] else {
            return "\(name): malformed vector"
        }
        defer {
            memory.write(48, width: 4, value: 0)
            for pair in iram { memory.write(UInt32(pair[0]), width: 1, value: 0) }
            for pair in fram { memory.write(UInt32(pair[0]), width: 1, value: 0) }
        }
        cpu.reset(.powerOn)
        for pair in iram { memory.write(UInt32(pair[0]), width: 1, value: UInt32(pair[1])) }
        // A 386 raises #SS (12) for real-mode stack overruns where the 286 raised #GP (13):
        // route vector 12 to the vector-13 handler so both land on the same HLT.
        memory.write(48, width: 4, value: memory.read(52, width: 4))
        for (i, r) in regOrder.enumerated() { cpu.gpr[i] = UInt32(iregs[r] ?? 0) }
        for (i, r) in segOrder.enumerated() {
            let sel = UInt16(iregs[r] ?? 0)
            cpu.seg[i] = SegmentCache(selector: sel, base: UInt32(sel) << 4, limit: 0xFFFF,
                                      attr: i == SegReg.cs ? SegmentCache.codeRealMode : SegmentCache.dataRealMode)
        }
        cpu.state.pointee.eip = UInt32(iregs["ip"] ?? 0)
        cpu.writeFlags(UInt32(iregs["flags"] ?? 0) & 0x0FFF, 0xFFFF)
        cpu.updateModes()
        let exit = cpu.run(instructions: 200_000)
        if exit != .halted && exit != .haltedForever { return "\(name): exit \(exit)" }
        var diffs: [String] = []
        for (i, r) in regOrder.enumerated() {
            let want = UInt32(fregs[r] ?? iregs[r] ?? 0)
            let got = cpu.gpr[i] & 0xFFFF
            if want != got { diffs.append("\(r) \(hex(got))≠\(hex(want))") }
        }
        for (i, r) in segOrder.enumerated() {
            let want = UInt32(fregs[r] ?? iregs[r] ?? 0)
            let got = UInt32(cpu.seg[i].selector)
            if want != got { diffs.append("\(r) \(hex(got))≠\(hex(want))") }
        }
        let wantIP = UInt32(fregs["ip"] ?? iregs["ip"] ?? 0)
        if cpu.state.pointee.eip != wantIP { diffs.append("ip \(hex(cpu.state.pointee.eip))≠\(hex(wantIP))") }
        let wantFlags = UInt32(fregs["flags"] ?? iregs["flags"] ?? 0) & flagMask
        let gotFlags = cpu.flagsValue() & flagMask
        if wantFlags != gotFlags { diffs.append("flags \(hex(gotFlags))≠\(hex(wantFlags))") }
        // The flags image of an exception frame sits just above the pushed CS:IP. (The
        // vectors' flag_address is word-aligned, one byte off when SP is odd.)
        let ssBase = Int(fregs["ss"] ?? iregs["ss"] ?? 0) << 4
        let flagAddress: Int? = test["exception"] == nil ? nil : ssBase + ((Int(fregs["sp"] ?? 0) + 4) & 0xFFFF)
        for pair in fram {
            var mask: UInt32 = 0xFF
            if let fa = flagAddress, pair[0] == fa { mask = flagMask & 0xFF }
            if let fa = flagAddress, pair[0] == fa + 1 { mask = (flagMask >> 8) & 0xFF }
            let got = memory.read(UInt32(pair[0]), width: 1) & mask
            if got != UInt32(pair[1]) & mask { diffs.append("[\(hex(UInt32(pair[0])))] \(hex(got))≠\(hex(UInt32(pair[1]) & mask))") }
        }
        return diffs.isEmpty ? nil : "\(name) \(test["bytes"] ?? ""): " + diffs.prefix(4).joined(separator: " ")
    }

    static func hex(_ v: UInt32) -> String { String(v, radix: 16, uppercase: true) }
}
