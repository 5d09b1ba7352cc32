import Foundation
import Testing
@testable import Engine
import TestSupport

/// `vmtui run --kernel`: parsing multiboot v1 kernels (a.out kludge and ELF32), the information
/// block, bad input, and a nasm-built kernel (Tests/guests/multiboot-hello.asm) booted through
/// SeaBIOS and QEMU's multiboot option ROM.
@Suite struct MultibootLoaderTests {
    static let magic: UInt32 = 0x1BAD_B002

    static func le32(_ values: UInt32...) -> [UInt8] { values.flatMap { FwCfg.le32($0) } }

    /// An a.out-kludge kernel: the header at offset 0, `code` after it, loaded at `load`.
    static func aOutKernel(load: UInt32 = 0x10_0000, code: [UInt8] = [0xF4], bss: UInt32 = 0x1000,
                           flags: UInt32 = 0x0001_0003, checksum: UInt32? = nil) -> [UInt8] {
        let loadEnd = load + 32 + UInt32(code.count)
        return le32(magic, flags, checksum ?? 0 &- (magic &+ flags), load, load, loadEnd, loadEnd + bss, load + 32) + code
    }

    /// A 32-bit i386 ELF whose PT_LOAD segments are (physical, virtual, bytes, memory size).
    static func elfKernel(entry: UInt32, segments: [(paddr: UInt32, vaddr: UInt32, bytes: [UInt8], memsz: UInt32)],
                          elfClass: UInt8 = 1) -> [UInt8] {
        let flags: UInt32 = 0x3
        let header = le32(magic, flags, 0 &- (magic &+ flags))
        let phoff = 52, dataStart = 52 + 32 * segments.count
        var file: [UInt8] = [0x7F, 0x45, 0x4C, 0x46, elfClass, 1, 1] + [UInt8](repeating: 0, count: 9)
        file += [2, 0, 3, 0] + le32(1, entry, UInt32(phoff), 0, 0) + [52, 0, 32, 0, UInt8(segments.count), 0, 40, 0, 0, 0, 0, 0]
        var offset = dataStart + header.count
        for s in segments {
            file += le32(1, UInt32(offset), s.vaddr, s.paddr, UInt32(s.bytes.count), s.memsz, 7, 0x1000)
            offset += s.bytes.count
        }
        return file + header + segments.flatMap(\.bytes)
    }

    static func expect(_ file: [UInt8], throws expected: MultibootError, append: String = "",
                       sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(throws: expected, sourceLocation: sourceLocation) { try MultibootLoader(file: file, path: "k", append: append) }
    }

    // MARK: Loading

    @Test func aOutKludgeLoadsTheFileAndZeroesTheBSS() throws {
        let kernel = try MultibootLoader(file: Self.aOutKernel(code: [0x90, 0xF4]), path: "k")
        #expect(kernel.entry == 0x10_0020)
        #expect(kernel.loadRange.start == 0x10_0000 && kernel.loadRange.end == 0x10_1022)
        let image = try kernel.image(ramSize: 2 << 20)
        #expect(image.count == 0x1022)
        #expect(image[0..<4].elementsEqual(FwCfg.le32(Self.magic)))
        #expect(image[32] == 0x90 && image[33] == 0xF4)
        #expect(image[34...].allSatisfy { $0 == 0 })
    }

    @Test func elfSegmentsGoToTheirPhysicalAddressesAndTheEntryFollows() throws {
        let file = Self.elfKernel(entry: 0xC010_0001, segments: [
            (paddr: 0x10_0000, vaddr: 0xC010_0000, bytes: [1, 2, 3], memsz: 3),
            (paddr: 0x10_2000, vaddr: 0xC010_2000, bytes: [4], memsz: 0x10),
        ])
        let kernel = try MultibootLoader(file: file, path: "k")
        #expect(kernel.entry == 0x10_0001)
        let image = try kernel.image(ramSize: 4 << 20)
        #expect(image.count == 0x2010)
        #expect(Array(image[0..<4]) == [1, 2, 3, 0])
        #expect(image[0x2000] == 4 && image[0x2001...].allSatisfy { $0 == 0 })
    }

    @Test func informationBlockNamesTheLoaderAndTheCommandLine() throws {
        let kernel = try MultibootLoader(file: Self.aOutKernel(), path: "/boot/k.flat", append: "-v all")
        let info = kernel.info
        func field(_ i: Int) -> UInt32 { info[i * 4..<i * 4 + 4].reversed().reduce(0) { $0 << 8 | UInt32($1) } }
        func string(at address: UInt32) -> String {
            let start = Int(address - MultibootLoader.infoAddress)
            return String(decoding: info[start...].prefix { $0 != 0 }, as: UTF8.self)
        }
        #expect(field(0) == 0x24D) // memory, command line, modules (none), memory map, loader name
        #expect(string(at: field(4)) == "/boot/k.flat -v all")
        #expect(field(5) == 0) // no modules
        #expect(field(12) == MultibootLoader.memoryMapAddress)
        #expect(string(at: field(16)) == "vmtui")
        #expect(Int(MultibootLoader.infoAddress) + info.count <= 0x10000)
    }

    // MARK: Bad input

    @Test func fileWithoutAHeaderIsNotMultiboot() {
        Self.expect([UInt8](repeating: 0x90, count: 9000), throws: .notMultiboot(path: "k", hint: ""))
        Self.expect([], throws: .notMultiboot(path: "k", hint: ""))
        var bzImage = [UInt8](repeating: 0, count: 0x400)
        bzImage.replaceSubrange(0x202..<0x206, with: Array("HdrS".utf8))
        do {
            _ = try MultibootLoader(file: bzImage, path: "k")
            Issue.record("a bzImage was accepted")
        } catch {
            #expect(error.description.contains("Linux bzImage"))
        }
        // The header must be in the first 8 KiB.
        Self.expect([UInt8](repeating: 0, count: 8192) + Self.aOutKernel(), throws: .notMultiboot(path: "k", hint: ""))
    }

    @Test func wrongChecksumIsRefused() {
        Self.expect(Self.aOutKernel(checksum: 0x1234), throws: .badChecksum(path: "k", offset: 0, flags: 0x0001_0003, checksum: 0x1234))
        #expect(MultibootError.badChecksum(path: "k", offset: 0, flags: 3, checksum: 1).description.contains("magic + flags + checksum must be 0"))
    }

    @Test func unknownRequiredFlagsAreRefused() {
        Self.expect(Self.aOutKernel(flags: 0x0001_0010), throws: .unsupportedFlags(path: "k", flags: 0x0001_0010))
    }

    @Test func notELFWithoutAddressFieldsAnd64BitELFAreRefused() throws {
        let flags: UInt32 = 3
        let headerOnly = Self.le32(Self.magic, flags, 0 &- (Self.magic &+ flags)) + [UInt8](repeating: 0, count: 64)
        #expect(throws: MultibootError.self) { try MultibootLoader(file: headerOnly, path: "k") }
        let elf64 = Self.elfKernel(entry: 0x10_0000, segments: [(0x10_0000, 0x10_0000, [0xF4], 1)], elfClass: 2)
        do {
            _ = try MultibootLoader(file: elf64, path: "k")
            Issue.record("a 64-bit ELF was accepted")
        } catch {
            #expect(error.description.contains("64-bit ELF"))
        }
        let noSegments = Self.elfKernel(entry: 0x10_0000, segments: [(0x10_0000, 0x10_0000, [], 0)])
        Self.expect(noSegments, throws: .badELF(path: "k", problem: "it has no loadable (PT_LOAD) segments"))
    }

    @Test func truncatedFilesAreRefused() {
        let aOut = Self.aOutKernel(code: [UInt8](repeating: 0x90, count: 100))
        Self.expect(Array(aOut.prefix(80)), throws: .truncated(path: "k", needed: 132, size: 80))
        Self.expect(Array(aOut.prefix(20)), throws: .truncated(path: "k", needed: 32, size: 20))
        let elf = Self.elfKernel(entry: 0x10_0000, segments: [(0x10_0000, 0x10_0000, [UInt8](repeating: 0xF4, count: 64), 64)])
        Self.expect(Array(elf.prefix(elf.count - 10)), throws: .truncated(path: "k", needed: UInt64(elf.count), size: elf.count - 10))
        var shortTable = elf
        shortTable[44] = 10 // ten program headers claimed, one present
        Self.expect(shortTable, throws: .truncated(path: "k", needed: 52 + 320, size: elf.count))
    }

    @Test func kernelsOutsideRAMOrInTheBIOSHoleAreRefused() throws {
        let big = try MultibootLoader(file: Self.aOutKernel(bss: 8 << 20), path: "k")
        #expect(throws: MultibootError.outsideRAM(path: "k", start: 0x10_0000, end: 0x90_0021, ramSize: 8 << 20)) {
            try big.image(ramSize: 8 << 20)
        }
        #expect(MultibootError.outsideRAM(path: "k", start: 0x10_0000, end: 0x90_0021, ramSize: 8 << 20).description.contains("at least 10 MiB"))
        let inHole = try MultibootLoader(file: Self.aOutKernel(load: 0xC_0000), path: "k")
        #expect(throws: MultibootError.self) { try inHole.image(ramSize: 8 << 20) }
        let low = try MultibootLoader(file: Self.aOutKernel(load: 0x8000), path: "k")
        #expect(try low.image(ramSize: 8 << 20).count == 0x1021)
    }

    @Test func overlongCommandLineIsRefused() {
        let limit = 0x10000 - 0x9500 - 88 - 7
        #expect((try? MultibootLoader(file: Self.aOutKernel(), path: "k", append: String(repeating: "x", count: limit - 2))) != nil)
        Self.expect(Self.aOutKernel(), throws: .commandLineTooLong(bytes: limit + 1, limit: limit), append: String(repeating: "x", count: limit - 1))
    }

    @Test func missingOptionROMNamesThePackage() {
        #expect(throws: MultibootError.self) { try MultibootLoader.optionROM(path: "/nonexistent/multiboot.bin") }
        #expect(MultibootError.optionROM(path: "/x", problem: "is missing").description.contains("apt-get install qemu-system-data"))
    }

    // MARK: Booting

    @Test(.enabled(if: HostFiles.have(HostFiles.nasm, FirmwareLocator.defaultBIOS, MultibootLoader.defaultOptionROM),
                   "needs nasm, seabios and QEMU's multiboot.bin (apt-get install nasm seabios qemu-system-data)"))
    func nasmKernelBootsThroughSeaBIOSAndTheOptionROM() throws {
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../guests/multiboot-hello.asm").standardizedFileURL.path
        let kernelPath = NSTemporaryDirectory() + "multiboot-hello-\(getpid()).bin"
        defer { try? FileManager.default.removeItem(atPath: kernelPath) }
        try assemble(source, into: kernelPath)

        var config = VMConfig(name: "multiboot-test", bootOrder: [], network: .init(mode: .none))
        config.memoryMiB = 32
        let machine = try Machine(config: config, firmware: try FirmwareLocator().load(),
                                  timeMode: .deterministic(nanosecondsPerInstruction: 10),
                                  unixTime: 1_700_000_000) { Interpreter(environment: $0) }
        try machine.bootMultiboot(try MultibootLoader(path: kernelPath, append: "hello world"),
                                  optionROM: try MultibootLoader.optionROM())
        var serial: [UInt8] = []
        machine.com1.onTransmit = { serial.append($0) }
        var slices = 0
        while machine.runSlice() == nil, slices < 5_000 { slices += 1 }
        let text = String(decoding: serial, as: UTF8.self)
        #expect(machine.stopReason == .debugExit(33), "serial: \(text)")
        #expect(text.hasPrefix("multiboot ok flags=0000024D lower=0000027F upper="), "serial: \(text)")
        #expect(text.hasSuffix(" mmap0=00000001 loader=vmtui cmdline=\(kernelPath) hello world\n"), "serial: \(text)")
        // mem_upper: the RAM from 1 MiB up to what SeaBIOS keeps for itself at the top of 32 MiB.
        let upper = text.split(separator: " ").first { $0.hasPrefix("upper=") }.flatMap { UInt32($0.dropFirst(6), radix: 16) } ?? 0
        #expect((30 * 1024...31 * 1024).contains(upper), "mem_upper \(upper) KiB")
    }

    /// QEMU's ROM as handed to SeaBIOS: its GDT's descriptors marked accessed (KVM would spin on
    /// the CPU's write of that bit into read-only shadow RAM), nothing else changed, checksum 0.
    @Test(.enabled(if: HostFiles.have(MultibootLoader.defaultOptionROM), "needs QEMU's multiboot.bin (qemu-system-data)"))
    func optionROMDescriptorsAreMarkedAccessed() throws {
        let original = [UInt8](FileManager.default.contents(atPath: MultibootLoader.defaultOptionROM)!)
        let rom = try MultibootLoader.optionROM()
        let size = Int(rom[2]) * 512
        #expect(rom[..<size].reduce(0, &+) == 0)
        let changed = rom.indices.filter { rom[$0] != original[$0] && $0 != size - 1 }
        #expect(changed.count == 4, "descriptor bytes changed at \(changed)")
        #expect(changed.allSatisfy { rom[$0] == original[$0] | 1 && rom[$0] & 0x90 == 0x90 })
    }
}
