#if canImport(Glibc)
import Glibc
#endif

/// A CPU-bound 32-bit protected-mode guest for measuring the interpreter (DESIGN.md: measure
/// before and after every optimisation).
extension Interpreter {
    /// The guest, our own code (nasm source beside each line; `org 0x1000`, `bits 32`): a loop
    /// over a 1 KiB buffer with loads, ALU ops, a rotate and stores, then a call with a stack
    /// frame, IMUL, a compare and a conditional branch.
    static let benchmarkGuest: [UInt8] = [
        0x31, 0xC9,                         // start: xor ecx, ecx
        0xBE, 0x00, 0x80, 0x00, 0x00,       // outer: mov esi, 0x8000
        0xBA, 0x00, 0x01, 0x00, 0x00,       //        mov edx, 256
        0x8B, 0x06,                         // inner: mov eax, [esi]
        0x01, 0xC8,                         //        add eax, ecx
        0x35, 0x5A, 0x5A, 0x5A, 0x5A,       //        xor eax, 0x5A5A5A5A
        0xC1, 0xC0, 0x03,                   //        rol eax, 3
        0x89, 0x06,                         //        mov [esi], eax
        0x83, 0xC6, 0x04,                   //        add esi, 4
        0x4A,                               //        dec edx
        0x75, 0xEC,                         //        jnz inner
        0x51,                               //        push ecx
        0xE8, 0x06, 0x00, 0x00, 0x00,       //        call func
        0x83, 0xC4, 0x04,                   //        add esp, 4
        0x41,                               //        inc ecx
        0xEB, 0xD6,                         //        jmp outer
        0x55,                               // func:  push ebp
        0x89, 0xE5,                         //        mov ebp, esp
        0x8B, 0x45, 0x08,                   //        mov eax, [ebp+8]
        0x6B, 0xC0, 0x0D,                   //        imul eax, eax, 13
        0x3D, 0xE8, 0x03, 0x00, 0x00,       //        cmp eax, 1000
        0x72, 0x02,                         //        jb .small
        0xD1, 0xE8,                         //        shr eax, 1
        0x5D,                               // .small: pop ebp
        0xC3,                               //        ret
    ]

    /// Runs the benchmark guest for `instructions` guest instructions in flat 32-bit protected
    /// mode (entered through a real GDT) and reports guest MIPS. `exit` is `.deadlineReached` unless
    /// the guest stopped early (which would be an interpreter bug).
    public static func benchmark(instructions: Int = 200_000_000) throws -> InterpreterBenchmark {
        let memory = try MemoryMap(ramSize: 1 << 20)
        let cpu = Interpreter(memory: memory, ports: PortMap())
        let gdt: [UInt64] = [0, 0x00CF_9A00_0000_FFFF, 0x00CF_9200_0000_FFFF]
        for (i, d) in gdt.enumerated() {
            memory.write(0x500 + UInt32(i * 8), width: 4, value: UInt32(truncatingIfNeeded: d))
            memory.write(0x504 + UInt32(i * 8), width: 4, value: UInt32(truncatingIfNeeded: d >> 32))
        }
        for (i, b) in benchmarkGuest.enumerated() { memory.write(0x1000 + UInt32(i), width: 1, value: UInt32(b)) }
        try cpu.enterFlatProtectedMode(gdtBase: 0x500, gdtLimit: UInt32(gdt.count * 8 - 1), eip: 0x1000, esp: 0x7000)
        let clock = ContinuousClock()
        let start = clock.now
        let cpuStart = threadCPUSeconds()
        var left = instructions
        var exit = VCPUExit.deadlineReached
        while left > 0 {
            let slice = min(left, 1_000_000)
            exit = cpu.run(instructions: slice)
            if exit != .deadlineReached { break }
            left -= slice
        }
        let elapsed = clock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return InterpreterBenchmark(instructions: cpu.retired, seconds: seconds,
                                    cpuSeconds: threadCPUSeconds() - cpuStart, exit: exit)
    }

    /// CPU time of the calling thread: unlike wall time, it does not count time the host gave
    /// to other processes.
    static func threadCPUSeconds() -> Double { Double(HostClock.nanoseconds(of: CLOCK_THREAD_CPUTIME_ID) ?? 0) / 1e9 }

    /// Loads GDTR, sets CR0.PE and loads CS (selector 8) and the data segments (selector 0x10)
    /// from the GDT, as a boot loader's far jump would.
    func enterFlatProtectedMode(gdtBase: UInt32, gdtLimit: UInt32, eip: UInt32, esp: UInt32) throws {
        state.pointee.gdtBase = gdtBase
        state.pointee.gdtLimit = gdtLimit
        try setCR0(state.pointee.cr0 | 1)
        let (low, high) = try descriptor(8)
        try loadCS(8, low, high, cpl: 0)
        for sg in [SegReg.es, SegReg.ss, SegReg.ds, SegReg.fs, SegReg.gs] { try loadSegment(sg, 0x10) }
        state.pointee.eip = eip
        gpr[4] = esp
    }
}

/// A boot-sector benchmark guest: the same image QEMU and Bochs boot from a floppy
/// (scripts/bench-cpu), run here without a BIOS.
extension Interpreter {
    /// Stops the guest when it writes port 0xF4 (QEMU's isa-debug-exit port).
    private final class ExitPort: PortDevice {
        var written = false
        func portRead(_ port: UInt16, width: Int) -> UInt32 { PortMap.allOnes(width) }
        func portWrite(_ port: UInt16, width: Int, value: UInt32) { written = true }
    }

    /// Loads `bootSector` at 0000:7C00 as a BIOS would, runs it in real mode until it writes
    /// port 0xF4 and halts, and reports the instructions retired and the time taken.
    /// Throws when the image is not a boot sector or the guest does not finish.
    public static func benchmark(bootSector: [UInt8], maxInstructions: Int = 20_000_000_000) throws -> InterpreterBenchmark {
        guard bootSector.count >= 512, bootSector[510] == 0x55, bootSector[511] == 0xAA else {
            throw BenchmarkImageError.notBootSector
        }
        let memory = try MemoryMap(ramSize: 16 << 20)
        for (i, b) in bootSector.prefix(512).enumerated() { memory.write(0x7C00 + UInt32(i), width: 1, value: UInt32(b)) }
        let ports = PortMap()
        let exitPort = ExitPort()
        ports.register(exitPort, ports: 0xF4...0xF4)
        let cpu = Interpreter(memory: memory, ports: ports)
        cpu.loadRealCS(0)
        cpu.state.pointee.eip = 0x7C00
        let clock = ContinuousClock()
        let start = clock.now
        let cpuStart = threadCPUSeconds()
        var exit = VCPUExit.deadlineReached
        while exit == .deadlineReached && Int(cpu.retired) < maxInstructions {
            exit = cpu.run(instructions: 1_000_000)
        }
        let elapsed = clock.now - start
        guard exitPort.written else { throw BenchmarkImageError.didNotFinish(exit, cpu.retired) }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return InterpreterBenchmark(instructions: cpu.retired, seconds: seconds,
                                    cpuSeconds: threadCPUSeconds() - cpuStart, exit: exit)
    }
}
