import Foundation

/// A multiboot (v1) kernel prepared the way QEMU's `-kernel` hands one to SeaBIOS: the image as
/// one block (file bytes, gaps and BSS zeroed) with its load address and entry point, and the
/// multiboot information block. `Machine.bootMultiboot` puts both in fw_cfg for QEMU's
/// multiboot option ROM (Debian's /usr/share/qemu/multiboot.bin), which SeaBIOS runs as the
/// first boot device. The ROM fills in mem_lower (INT 12h), the memory map (INT 15h E820) and
/// mem_upper, copies both blocks into RAM, enters 32-bit flat protected mode (paging off, A20
/// on since POST) and jumps to the entry with EAX = 0x2BADB002 and EBX = `infoAddress`.
public struct MultibootLoader: Sendable {
    public static let defaultOptionROM = "/usr/share/qemu/multiboot.bin"
    public static let headerMagic: UInt32 = 0x1BAD_B002
    /// Where the option ROM writes the memory map (QEMU's layout: the map, then the information).
    public static let memoryMapAddress: UInt32 = 0x9000
    /// The option ROM copies the information block with 16-bit string moves (ES = 0), so the
    /// block, the loader name and the command line after it must end below 64 KiB.
    public static let infoAddress: UInt32 = 0x9500
    static let infoEnd = 0x10000
    static let infoSize = 88
    static let loaderName = "vmtui"

    /// Information flags: memory (0), command line (2), modules (3, none), memory map (6), loader name (9).
    static let infoFlags: UInt32 = 1 << 0 | 1 << 2 | 1 << 3 | 1 << 6 | 1 << 9

    struct Segment {
        var address: UInt32
        var file: Range<Int>
        var memorySize: UInt32
    }

    public let path: String
    /// What the kernel finds at the information's `cmdline`: its file name, then `--append`
    /// (as QEMU and GRUB pass it).
    public let commandLine: String
    public let entry: UInt32
    let file: [UInt8]
    let segments: [Segment]

    /// Reads and checks `path`; `append` is the rest of the kernel command line.
    public init(path: String, append: String = "") throws(MultibootError) {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw .unreadable(path: path, reason: FileErrorText.describe(error))
        }
        try self.init(file: [UInt8](data), path: path, append: append)
    }

    public init(file: [UInt8], path: String, append: String = "") throws(MultibootError) {
        self.file = file
        self.path = path
        commandLine = append.isEmpty ? path : path + " " + append
        let header = try Self.findHeader(file, path: path)
        let flags = file.le32(header + 4)
        if flags & 0xFFF8 != 0 { throw .unsupportedFlags(path: path, flags: flags) }
        if flags & (1 << 16) != 0 {
            (segments, entry) = try Self.addressFields(file, header: header, path: path)
        } else {
            (segments, entry) = try Self.elfSegments(file, path: path)
        }
        let infoBytes = Self.infoSize + Self.loaderName.utf8.count + 1 + commandLine.utf8.count + 1
        let limit = Self.infoEnd - Int(Self.infoAddress) - Self.infoSize - Self.loaderName.utf8.count - 2
        if Int(Self.infoAddress) + infoBytes > Self.infoEnd {
            throw .commandLineTooLong(bytes: commandLine.utf8.count, limit: limit)
        }
    }

    /// The lowest and one past the highest byte the kernel occupies.
    public var loadRange: (start: UInt32, end: UInt64) {
        let start = segments.map(\.address).min() ?? 0
        let end = segments.map { UInt64($0.address) + UInt64($0.memorySize) }.max() ?? 0
        return (start, end)
    }

    /// The kernel as one block from `loadRange.start`, after checking that it fits in `ramSize`
    /// bytes of RAM and stays clear of the VGA/BIOS hole.
    public func image(ramSize: Int) throws(MultibootError) -> [UInt8] {
        let (start, end) = loadRange
        if end > UInt64(ramSize) || (UInt64(start) < 0x10_0000 && end > 0xA_0000) {
            throw .outsideRAM(path: path, start: start, end: end, ramSize: ramSize)
        }
        var block = [UInt8](repeating: 0, count: Int(end - UInt64(start)))
        for segment in segments {
            let at = Int(segment.address - start)
            block.replaceSubrange(at..<at + segment.file.count, with: file[segment.file])
        }
        return block
    }

    /// The information block for `infoAddress`: the structure, the loader name, the command
    /// line. mem_lower, mem_upper and mmap_length are left for the option ROM.
    public var info: [UInt8] {
        let nameAddress = Self.infoAddress + UInt32(Self.infoSize)
        let cmdlineAddress = nameAddress + UInt32(Self.loaderName.utf8.count + 1)
        var fields = [UInt32](repeating: 0, count: Self.infoSize / 4)
        fields[0] = Self.infoFlags
        fields[4] = cmdlineAddress
        fields[12] = Self.memoryMapAddress
        fields[16] = nameAddress
        return fields.flatMap { FwCfg.le32($0) } + Array(Self.loaderName.utf8) + [0] + Array(commandLine.utf8) + [0]
    }

    /// Reads QEMU's multiboot option ROM and checks it is one (55 AA, whole 512-byte blocks).
    public static func optionROM(path: String = defaultOptionROM) throws(MultibootError) -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .optionROM(path: path, problem: "is missing or unreadable")
        }
        let rom = [UInt8](data)
        guard rom.count >= 512, rom.count % 512 == 0, rom[0] == 0x55, rom[1] == 0xAA else {
            throw .optionROM(path: path, problem: "is not an option ROM (\(rom.count) bytes, no 55 AA signature)")
        }
        return presetAccessedBits(rom)
    }

    /// QEMU's ROM enters protected mode through a GDT inside itself whose descriptors have the
    /// Accessed bit clear: loading one makes the CPU set it, a write into the read-only shadow
    /// RAM SeaBIOS copied the ROM to. KVM (seen under nested SVM) then retries the `mov ss`
    /// forever without an exit; the interpreter drops the write. Set as the CPU would leave
    /// them (the checksum kept), the kernel starts under both.
    static func presetAccessedBits(_ rom: [UInt8]) -> [UInt8] {
        let flatCode: [UInt8] = [0xFF, 0xFF, 0, 0, 0, 0x9A, 0xCF, 0]
        let size = min(rom.count, Int(rom[2]) * 512)
        guard size >= 8, let start = (0...size - 8).first(where: { rom[$0..<$0 + 8].elementsEqual(flatCode) }) else { return rom }
        var patched = rom
        var added: UInt8 = 0
        // The GDT's code and data descriptors from the flat code one on (present, S set).
        var offset = start
        while offset + 8 < size, rom[offset + 5] & 0x90 == 0x90 {
            if rom[offset + 5] & 1 == 0 {
                patched[offset + 5] |= 1
                added &+= 1
            }
            offset += 8
        }
        patched[size - 1] &-= added
        return patched
    }

    // MARK: Parsing

    /// The offset of the multiboot header: 4-byte aligned within the first 8 KiB.
    private static func findHeader(_ file: [UInt8], path: String) throws(MultibootError) -> Int {
        var offset = 0
        while offset + 12 <= min(file.count, 8192) {
            if file.le32(offset) == headerMagic {
                let flags = file.le32(offset + 4), checksum = file.le32(offset + 8)
                guard headerMagic &+ flags &+ checksum == 0 else {
                    throw .badChecksum(path: path, offset: offset, flags: flags, checksum: checksum)
                }
                return offset
            }
            offset += 4
        }
        var hint = ""
        if file.count >= 0x206, file[0x202..<0x206].elementsEqual("HdrS".utf8) {
            hint = " (it is a Linux bzImage: boot it from an ISO or disk with a boot loader)"
        } else if stride(from: 0, to: min(file.count, 32768) - 3, by: 8).contains(where: { file.le32($0) == 0xE852_50D6 }) {
            hint = " (it has a multiboot2 header, which vmtui, like QEMU's -kernel, does not load)"
        }
        throw .notMultiboot(path: path, hint: hint)
    }

    /// The a.out kludge: header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr.
    private static func addressFields(_ file: [UInt8], header: Int, path: String) throws(MultibootError) -> ([Segment], UInt32) {
        guard header + 32 <= file.count else { throw .truncated(path: path, needed: UInt64(header + 32), size: file.count) }
        let headerAddr = file.le32(header + 12), loadAddr = file.le32(header + 16)
        let loadEndAddr = file.le32(header + 20), bssEndAddr = file.le32(header + 24)
        func bad(_ problem: String) -> MultibootError { .badAddressFields(path: path, problem: problem) }
        guard loadAddr <= headerAddr else { throw bad("load_addr 0x\(String(loadAddr, radix: 16)) is above header_addr 0x\(String(headerAddr, radix: 16))") }
        let fileStart = header - Int(headerAddr - loadAddr)
        guard fileStart >= 0 else { throw bad("header_addr - load_addr (\(headerAddr - loadAddr)) is larger than the header's file offset (\(header))") }
        let loadEnd = loadEndAddr == 0 ? UInt64(loadAddr) + UInt64(file.count - fileStart) : UInt64(loadEndAddr)
        guard loadEnd >= UInt64(loadAddr) else { throw bad("load_end_addr is below load_addr") }
        let length = Int(loadEnd - UInt64(loadAddr))
        guard fileStart + length <= file.count else { throw .truncated(path: path, needed: UInt64(fileStart + length), size: file.count) }
        let bssEnd = bssEndAddr == 0 ? loadEnd : UInt64(bssEndAddr)
        guard bssEnd >= loadEnd else { throw bad("bss_end_addr is below load_end_addr") }
        let segment = Segment(address: loadAddr, file: fileStart..<fileStart + length, memorySize: UInt32(bssEnd - UInt64(loadAddr)))
        return ([segment], file.le32(header + 28))
    }

    /// PT_LOAD segments of a 32-bit x86 ELF, placed at their physical addresses.
    private static func elfSegments(_ file: [UInt8], path: String) throws(MultibootError) -> ([Segment], UInt32) {
        func bad(_ problem: String) -> MultibootError { .badELF(path: path, problem: problem) }
        guard file.count >= 52, file[0..<4].elementsEqual([0x7F, 0x45, 0x4C, 0x46]) else {
            throw bad("it is not an ELF file and its multiboot header has no address fields")
        }
        guard file[4] == 1 else { throw bad("it is a 64-bit ELF (link it as elf_i386, or objcopy -O elf32-i386 as kvm-unit-tests does)") }
        guard file[5] == 1, file.le16(18) == 3 else { throw bad("it is not a little-endian i386 ELF (e_machine \(file.le16(18)))") }
        let phoff = Int(file.le32(28)), phentsize = Int(file.le16(42)), phnum = Int(file.le16(44))
        guard phentsize >= 32 || phnum == 0 else { throw bad("its program header entries are \(phentsize) bytes (32 expected)") }
        let tableEnd = UInt64(phoff) + UInt64(phentsize * phnum)
        guard tableEnd <= UInt64(file.count) else { throw .truncated(path: path, needed: tableEnd, size: file.count) }
        var segments: [Segment] = []
        var entry = file.le32(24)
        var entryInSegment = false
        for i in 0..<phnum {
            let ph = phoff + i * phentsize
            let offset = file.le32(ph + 4), vaddr = file.le32(ph + 8), paddr = file.le32(ph + 12)
            let fileSize = file.le32(ph + 16), memorySize = file.le32(ph + 20)
            guard file.le32(ph) == 1, memorySize > 0 else { continue }
            guard fileSize <= memorySize else { throw bad("segment \(i) has more file bytes (\(fileSize)) than memory bytes (\(memorySize))") }
            let end = UInt64(offset) + UInt64(fileSize)
            guard end <= UInt64(file.count) else { throw .truncated(path: path, needed: end, size: file.count) }
            guard UInt64(paddr) + UInt64(memorySize) <= 1 << 32 else { throw bad("segment \(i) runs past 4 GiB") }
            segments.append(Segment(address: paddr, file: Int(offset)..<Int(end), memorySize: memorySize))
            // A kernel linked at a virtual address enters at the matching physical one.
            if !entryInSegment, entry &- vaddr < memorySize {
                entry = paddr &+ (entry &- vaddr)
                entryInSegment = true
            }
        }
        guard !segments.isEmpty else { throw bad("it has no loadable (PT_LOAD) segments") }
        return (segments, entry)
    }
}

private extension Array where Element == UInt8 {
    func le16(_ at: Int) -> UInt16 { UInt16(self[at]) | UInt16(self[at + 1]) << 8 }
    func le32(_ at: Int) -> UInt32 {
        UInt32(self[at]) | UInt32(self[at + 1]) << 8 | UInt32(self[at + 2]) << 16 | UInt32(self[at + 3]) << 24
    }
}
