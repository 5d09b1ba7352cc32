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
        guard !bios.isEmpty, bios.count % (64 << 10) == 0, bios.count <= Self.maxBIOSSize else {
            throw .badSize(path: biosPath, size: bios.count,
                           allowed: "a BIOS must be a non-zero multiple of 64 KiB (65536 bytes) and at most 16 MiB, like bios-256k.bin (262144 bytes)")
        }
        let vga = try Self.read(vgaBiosPath, what: "VGA BIOS")
        guard vga.count >= 512, vga.count <= Self.maxVGABIOSSize, vga[0] == 0x55, vga[1] == 0xAA else {
            throw .badSize(path: vgaBiosPath, size: vga.count,
                           allowed: "a VGA BIOS must be an option ROM (starting 55 AA) of 512 bytes to 64 KiB, like vgabios-stdvga.bin")
        }
        return Firmware(biosPath: biosPath, bios: bios, vgaBiosPath: vgaBiosPath, vgaBios: vga)
    }

    private static func read(_ path: String, what: String) throws(FirmwareError) -> [UInt8] {
        guard FileManager.default.fileExists(atPath: path) else { throw .missing(path: path, what: what) }
        do {
            return [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw .unreadable(path: path, reason: error.localizedDescription)
        }
    }
}
