import Foundation

/// Host programs and files the guest tests need. Tests that need one are disabled with
/// `.enabled(if: HostFiles.have(...), "why")`, so a missing tool shows as a skip, never a pass.
public enum HostFiles {
    public static let nasm = "/usr/bin/nasm"
    public static let seabios = "/usr/share/seabios/bios-256k.bin"
    public static let multibootROM = "/usr/share/qemu/multiboot.bin"
    public static let memtestISO = "/usr/lib/memtest86+/memtest86+ia32.iso"
    public static let qemu = "/usr/bin/qemu-system-i386"

    /// Whether every path exists (programs must also be executable).
    public static func have(_ paths: String...) -> Bool {
        paths.allSatisfy { path in
            path.hasPrefix("/usr/bin/") ? FileManager.default.isExecutableFile(atPath: path)
                                         : FileManager.default.fileExists(atPath: path)
        }
    }
}
