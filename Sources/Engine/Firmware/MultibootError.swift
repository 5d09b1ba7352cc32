/// Why a `--kernel` file cannot be booted as a multiboot (v1) kernel; each case names the file,
/// the problem and what to do about it.
public enum MultibootError: Error, CustomStringConvertible, Equatable {
    case unreadable(path: String, reason: String)
    /// No multiboot header in the first 8 KiB; `hint` says what the file looks like instead.
    case notMultiboot(path: String, hint: String)
    case badChecksum(path: String, offset: Int, flags: UInt32, checksum: UInt32)
    /// Header flag bits 3-15 ask for loader features that do not exist in multiboot v1.
    case unsupportedFlags(path: String, flags: UInt32)
    /// Bit 16 clear, so the image must be ELF, but it is not a usable 32-bit x86 ELF.
    case badELF(path: String, problem: String)
    /// The address fields (bit 16) contradict each other.
    case badAddressFields(path: String, problem: String)
    case truncated(path: String, needed: UInt64, size: Int)
    /// The kernel would land outside RAM or in the VGA/BIOS hole at 640 KiB-1 MiB.
    case outsideRAM(path: String, start: UInt32, end: UInt64, ramSize: Int)
    case commandLineTooLong(bytes: Int, limit: Int)
    /// QEMU's multiboot option ROM (Debian's qemu-system-data) is missing or not an option ROM.
    case optionROM(path: String, problem: String)

    public var description: String {
        func hex(_ v: UInt64) -> String { "0x" + String(v, radix: 16, uppercase: true) }
        switch self {
        case .unreadable(let path, let reason):
            return "cannot read kernel \(path): \(reason)"
        case .notMultiboot(let path, let hint):
            return "\(path) is not a multiboot kernel: no multiboot header (magic 0x1BADB002) in its first 8 KiB\(hint); --kernel boots multiboot v1 kernels (ELF32 or a.out kludge) such as kvm-unit-tests' x86/*.flat"
        case .badChecksum(let path, let offset, let flags, let checksum):
            return "\(path): the multiboot header at offset \(hex(UInt64(offset))) has a wrong checksum (flags \(hex(UInt64(flags))), checksum \(hex(UInt64(checksum))); magic + flags + checksum must be 0 mod 2^32): rebuild the kernel"
        case .unsupportedFlags(let path, let flags):
            return "\(path): the multiboot header asks for features that no multiboot v1 loader provides (flags \(hex(UInt64(flags))), bits 3-15 must be clear): rebuild the kernel without them"
        case .badELF(let path, let problem):
            return "\(path): \(problem); without the address fields (header flag bit 16) a multiboot kernel must be a 32-bit x86 ELF with loadable segments"
        case .badAddressFields(let path, let problem):
            return "\(path): the multiboot header's address fields are inconsistent: \(problem); fix the kernel's link script"
        case .truncated(let path, let needed, let size):
            return "\(path) is truncated: its headers need \(needed) bytes but the file has \(size); copy the whole file again"
        case .outsideRAM(let path, let start, let end, let ramSize):
            if end > UInt64(ramSize) {
                return "\(path) loads at \(hex(UInt64(start)))-\(hex(end - 1)), beyond the VM's \(ramSize >> 20) MiB of RAM: give the VM at least \((end + (1 << 20) - 1) >> 20) MiB (memoryMiB in its config)"
            }
            return "\(path) loads at \(hex(UInt64(start)))-\(hex(end - 1)), which overlaps the VGA/BIOS area 0xA0000-0xFFFFF: link the kernel at 1 MiB or above (or below 0xA0000)"
        case .commandLineTooLong(let bytes, let limit):
            return "the kernel command line (file name and --append) is \(bytes) bytes; at most \(limit) fit below 64 KiB where the multiboot option ROM reads it"
        case .optionROM(let path, let problem):
            return "multiboot option ROM \(path) \(problem): install Debian's qemu-system-data (apt-get install qemu-system-data), which SeaBIOS runs to load the kernel as QEMU's -kernel does"
        }
    }
}
