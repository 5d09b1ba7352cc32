import Foundation
import Testing
@testable import Engine

/// Just enough platform for SeaBIOS to exercise the CPU: the debug port (0x402), a CMOS with
/// the RAM size, port 0x92 for A20. No PCI host, no fw_cfg: SeaBIOS takes its non-QEMU paths.
final class SmokePorts: PortDevice {
    var log: [UInt8] = []
    var cmos = [UInt8](repeating: 0, count: 128)
    var cmosIndex = 0
    let memory: MemoryMap

    init(memory: MemoryMap, ramSize: Int) {
        self.memory = memory
        let extended = (ramSize - 16 << 20) >> 16
        cmos[0x34] = UInt8(extended & 0xFF)
        cmos[0x35] = UInt8(extended >> 8)
        cmos[0x30] = 0xFF; cmos[0x31] = 0x3C; cmos[0x17] = 0xFF; cmos[0x18] = 0x3C
        cmos[0x0B] = 0x02; cmos[0x0D] = 0x80
    }

    func portRead(_ port: UInt16, width: Int) -> UInt32 {
        switch port {
        case 0x402: return 0xE9
        case 0x71: return UInt32(cmos[cmosIndex])
        case 0x92: return memory.a20Enabled ? 2 : 0
        default: return PortMap.allOnes(width)
        }
    }

    func portWrite(_ port: UInt16, width: Int, value: UInt32) {
        switch port {
        case 0x402: log.append(UInt8(value & 0xFF))
        case 0x70: cmosIndex = Int(value & 0x7F)
        case 0x71: cmos[cmosIndex] = UInt8(value & 0xFF)
        case 0x92: memory.a20Enabled = value & 2 != 0
        default: break
        }
    }

    var text: String { String(decoding: log, as: UTF8.self) }
}

@Suite struct SeaBIOSSmokeTests {
    static let biosPath = "/usr/share/seabios/bios-256k.bin"

    /// Boots Debian's SeaBIOS on the bare CPU until it stops; the CPU must never report an
    /// unimplemented feature or a triple fault, and SeaBIOS must get as far as its banner.
    @Test(.enabled(if: FileManager.default.fileExists(atPath: biosPath), "needs Debian's SeaBIOS (apt-get install seabios)"))
    func seabiosRunsOnTheInterpreter() throws {
        let rom = try #require(FileManager.default.contents(atPath: Self.biosPath))
        let ramSize = 64 << 20
        let memory = try MemoryMap(ramSize: ramSize)
        let image = UnsafeMutableRawPointer.allocate(byteCount: rom.count, alignment: 4096)
        defer { image.deallocate() }
        rom.copyBytes(to: image.assumingMemoryBound(to: UInt8.self), count: rom.count)
        memory.setPages(from: UInt32(truncatingIfNeeded: 0x1_0000_0000 - rom.count), size: rom.count, readFrom: image, writeTo: nil)
        // Shadow RAM below 1 MiB already holding the image, as SeaBIOS's own copy would leave
        // it after unlocking PAM (this stub has no i440FX to unlock).
        (memory.ram + (0x10_0000 - rom.count)).copyMemory(from: image, byteCount: rom.count)
        let ports = PortMap()
        let stub = SmokePorts(memory: memory, ramSize: ramSize)
        ports.register(stub, ports: 0x70...0x71)
        ports.register(stub, ports: 0x92...0x92)
        ports.register(stub, ports: 0x402...0x402)
        let cpu = Interpreter(memory: memory, ports: ports)
        var exit = BackendExit.sliceExpired
        var slices = 0
        // SEABIOS_TRACE=N single-steps and prints the last N control transfers before the stop
        // (or before EIP reaches SEABIOS_TRACE_STOP, hex).
        if let n = Int(ProcessInfo.processInfo.environment["SEABIOS_TRACE"] ?? "") {
            let stop = UInt32(ProcessInfo.processInfo.environment["SEABIOS_TRACE_STOP"] ?? "", radix: 16)
            var trail: [String] = []
            for _ in 0..<50_000_000 {
                let from = "\(cpu.hex16(cpu.seg[SegReg.cs].selector)):\(cpu.hex32(cpu.state.pointee.eip))"
                let before = cpu.state.pointee.eip
                exit = cpu.run(instructions: 1)
                let after = cpu.state.pointee.eip
                if after < before || after > before &+ 15 {
                    trail.append("\(from) -> \(cpu.hex32(after)) eax=\(cpu.hex32(cpu.gpr[0])) esp=\(cpu.hex32(cpu.gpr[4]))")
                    if trail.count > n { trail.removeFirst() }
                }
                if exit != .sliceExpired && exit != .halted { break }
                if after == stop { break }
            }
            print(trail.joined(separator: "\n"))
        }
        while slices < 2000 {
            exit = cpu.run(instructions: 100_000)
            slices += 1
            if exit != .sliceExpired && exit != .halted { break }
        }
        print("SeaBIOS debug log:\n\(stub.text)")
        print("SeaBIOS stopped after \(cpu.instructionsRetired) instructions: \(exit)\n\(cpu.registerDump)")
        if case .unsupported(let what) = exit { Issue.record("unsupported: \(what)") }
        if case .tripleFault(let what) = exit { Issue.record("triple fault: \(what)") }
        #expect(stub.text.contains("SeaBIOS (version"))
    }
}
