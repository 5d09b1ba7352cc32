import Foundation
import Testing
@testable import Engine

/// A boot ISO that cannot be used is a clear MachineError before boot, naming the file and the fix.
@Suite struct BootISOCheckTests {
    /// Stand-in ROMs: the machine is assembled but never run.
    static let firmware = Firmware(biosPath: "bios", bios: [UInt8](repeating: 0, count: 0x20000),
                                   vgaBiosPath: "vgabios", vgaBios: [UInt8](repeating: 0, count: 0x8000))

    static func machineError(iso: String) -> MachineError? {
        let config = VMConfig(name: "cd", bootISO: iso, memoryMiB: 16, network: .init(mode: .none))
        do {
            _ = try Machine(config: config, firmware: firmware) { Interpreter(environment: $0) }
            return nil
        } catch {
            return error as? MachineError
        }
    }

    static func temporaryFile(_ bytes: [UInt8]) -> String {
        let path = NSTemporaryDirectory() + "vmtui-iso-\(UUID().uuidString).iso"
        _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
        return path
    }

    /// A minimal volume: the primary volume descriptor at 0x8000 announcing `blocks` 2048-byte blocks.
    static func isoBytes(blocks: UInt32, fileBlocks: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: fileBlocks * 2048)
        bytes[0x8000] = 1
        bytes.replaceSubrange(0x8001..<0x8006, with: Array("CD001".utf8))
        for i in 0..<4 { bytes[0x8050 + i] = UInt8((blocks >> UInt32(8 * i)) & 0xFF) }
        bytes[0x8080] = 0x00; bytes[0x8081] = 0x08
        return bytes
    }

    @Test func vanishedISO() {
        let path = "/nonexistent/vmtui-test/gone.iso"
        let error = Self.machineError(iso: path)
        #expect(error == .bootISO(vm: "cd", path: path, problem: "does not exist (moved or deleted?)"))
        #expect(error?.description.contains("vmtui set cd iso=PATH") == true)
    }

    @Test func notISO9660() {
        let path = Self.temporaryFile([UInt8](repeating: 0x41, count: 40 * 2048))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let error = Self.machineError(iso: path)
        #expect(error?.description.contains("\(path) is not an ISO 9660 image (no CD001 at byte 0x8001)") == true)
        let tiny = Self.temporaryFile(Array("hello".utf8))
        defer { try? FileManager.default.removeItem(atPath: tiny) }
        #expect(Self.machineError(iso: tiny)?.description.contains("is not an ISO 9660 image: 5 bytes is too short") == true)
    }

    @Test func truncatedISO() {
        let path = Self.temporaryFile(Self.isoBytes(blocks: 100, fileBlocks: 40))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let error = Self.machineError(iso: path)
        #expect(error?.description.contains("is truncated: the ISO 9660 volume is 204800 bytes but the file holds only 81920") == true)
        // `vmtui create/set iso=` refuse it with the same words.
        do { try BootMedia.checkISO(path) } catch { #expect("\(error)".contains("is truncated")) }
        #expect(throws: VMConfigError.self) { try BootMedia.checkISO(path) }
        let whole = Self.temporaryFile(Self.isoBytes(blocks: 40, fileBlocks: 40))
        defer { try? FileManager.default.removeItem(atPath: whole) }
        #expect(Self.machineError(iso: whole) == nil)
    }

    @Test func directoryInsteadOfISO() {
        let error = Self.machineError(iso: NSTemporaryDirectory())
        #expect(error?.description.contains("is not a regular file") == true)
    }

    @Test func changeISOChecksTheNewDiscAndSignalsAMediaChange() throws {
        let first = Self.temporaryFile(Self.isoBytes(blocks: 40, fileBlocks: 40))
        let second = Self.temporaryFile(Self.isoBytes(blocks: 60, fileBlocks: 60))
        defer { for p in [first, second] { try? FileManager.default.removeItem(atPath: p) } }
        let config = VMConfig(name: "cd", bootISO: first, memoryMiB: 16, network: .init(mode: .none))
        let machine = try Machine(config: config, firmware: Self.firmware) { Interpreter(environment: $0) }
        #expect(machine.cdrom.sectors == 40)
        #expect(throws: MachineError.self) { try machine.changeISO("/nonexistent/other.iso") }
        #expect(machine.cdrom.sectors == 40) // a refused disc leaves the old one in
        try machine.changeISO(second)
        #expect(machine.cdrom.sectors == 60)
        try machine.changeISO(nil)
        #expect(machine.cdrom.medium == nil)
    }

    @Test func aVMWithoutAnISOHasAnEmptyDrive() throws {
        let machine = try Machine(config: VMConfig(name: "nocd", memoryMiB: 16, network: .init(mode: .none)),
                                  firmware: Self.firmware) { Interpreter(environment: $0) }
        #expect(machine.cdrom.medium == nil)
        let iso = Self.temporaryFile(Self.isoBytes(blocks: 30, fileBlocks: 30))
        defer { try? FileManager.default.removeItem(atPath: iso) }
        try machine.changeISO(iso)
        #expect(machine.cdrom.sectors == 30)
    }
}
