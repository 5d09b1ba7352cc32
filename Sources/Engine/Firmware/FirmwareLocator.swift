import Foundation

/// Finds and checks the firmware files: Debian's seabios package by default, or the paths a
/// VM's config (or `--bios`) names.
public struct FirmwareLocator: Sendable {
    public static let defaultBIOS = "/usr/share/seabios/bios-256k.bin"
    public static let defaultVGABIOS = "/usr/share/seabios/vgabios-stdvga.bin"
    /// The BIOS is mapped below 4 GiB in whole 64 KiB blocks; 16 MiB is the top flash window.
    public static let maxBIOSSize = 16 << 20
    /// The VGA ROM is served through a 64 KiB PCI ROM BAR.
    public static let maxVGABIOSSize = 64 << 10

    public var biosPath: String
    public var vgaBiosPath: String

    public init(firmware: VMConfig.Firmware = VMConfig.Firmware(), biosOverride: String? = nil) {
        biosPath = biosOverride ?? firmware.biosPath ?? FirmwareLocator.defaultBIOS
        vgaBiosPath = firmware.vgaBiosPath ?? FirmwareLocator.defaultVGABIOS
    }

    public func load() throws(FirmwareError) -> Firmware {
        let bios = try Self.read(biosPath, what: "BIOS image")
        try Self.checkBIOS(bios, path: biosPath)
        let vga = try Self.read(vgaBiosPath, what: "VGA BIOS")
        try Self.checkVGABIOS(vga, path: vgaBiosPath)
        return Firmware(biosPath: biosPath, bios: bios, vgaBiosPath: vgaBiosPath, vgaBios: vga)
    }

    /// The checks `load()` makes, for a file about to be put into a VM's config (`vmtui set bios=`).
    public static func check(biosPath: String) throws(FirmwareError) { try checkBIOS(read(biosPath, what: "BIOS image"), path: biosPath) }
    public static func check(vgaBiosPath: String) throws(FirmwareError) { try checkVGABIOS(read(vgaBiosPath, what: "VGA BIOS"), path: vgaBiosPath) }

    /// A size the flash window takes, and a reset vector: the CPU starts 16 bytes below the top,
    /// where SeaBIOS (as every PC BIOS) has a far jump (EA) to its POST code.
    static func checkBIOS(_ bios: [UInt8], path: String) throws(FirmwareError) {
        guard !bios.isEmpty, bios.count % (64 << 10) == 0, bios.count <= maxBIOSSize else {
            throw .badSize(path: path, size: bios.count,
                           allowed: "a BIOS must be a non-zero multiple of 64 KiB (65536 bytes) and at most 16 MiB, like bios-256k.bin (262144 bytes)")
        }
        guard bios[bios.count - 16] == 0xEA else {
            throw .notFirmware(path: path, problem: "has no far jump at the reset vector (16 bytes below its end)",
                               allowed: "a PC BIOS image such as SeaBIOS's /usr/share/seabios/bios-256k.bin")
        }
    }

    static func checkVGABIOS(_ vga: [UInt8], path: String) throws(FirmwareError) {
        guard vga.count >= 512, vga.count <= maxVGABIOSSize, vga[0] == 0x55, vga[1] == 0xAA else {
            throw .badSize(path: path, size: vga.count,
                           allowed: "a VGA BIOS must be an option ROM (starting 55 AA) of 512 bytes to 64 KiB, like vgabios-stdvga.bin")
        }
    }

    private static func read(_ path: String, what: String) throws(FirmwareError) -> [UInt8] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { throw .missing(path: path, what: what) }
        guard !isDirectory.boolValue else { throw .unreadable(path: path, reason: "it is a directory; give the firmware file in it") }
        do {
            return [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw .unreadable(path: path, reason: FileErrorText.describe(error))
        }
    }
}
