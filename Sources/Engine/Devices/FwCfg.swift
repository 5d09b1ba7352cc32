/// QEMU's firmware configuration device, I/O interface only (selector 0x510, data 0x511;
/// PLATFORM-NOTES §2.2-2.4): the "QEMU" signature, ID 1 (no DMA), a file directory, and the
/// files SeaBIOS looks for (etc/e820, bootorder, etc/boot-fail-wait, floppyimg/...). Every
/// other key reads 0, which among other things disables the boot menu (key 0x0E).
public final class FwCfg: PortDevice {
    public static let signatureKey: UInt16 = 0x0000
    public static let idKey: UInt16 = 0x0001
    public static let fileDirectoryKey: UInt16 = 0x0019
    public static let firstFileKey: UInt16 = 0x0020

    private var items: [UInt16: [UInt8]] = [:]
    private var files: [(name: String, data: [UInt8])] = []
    private var selected: UInt16 = 0
    private var offset = 0

    public init() {
        items[FwCfg.signatureKey] = Array("QEMU".utf8)
        items[FwCfg.idKey] = FwCfg.le32(1)
        rebuildDirectory()
    }

    public func reset() {
        selected = 0
        offset = 0
    }

    /// Sets a numbered item.
    public func setItem(_ key: UInt16, _ data: [UInt8]) { items[key] = data }

    /// Adds (or replaces) a named file; the directory stays sorted by name, keys 0x20 + index.
    public func addFile(_ name: String, _ data: [UInt8]) {
        files.removeAll { $0.name == name }
        files.append((name, data))
        files.sort { $0.name < $1.name }
        rebuildDirectory()
    }

    public func file(_ name: String) -> [UInt8]? { files.first { $0.name == name }?.data }

    private func rebuildDirectory() {
        var dir = FwCfg.be32(UInt32(files.count))
        for (i, f) in files.enumerated() {
            dir += FwCfg.be32(UInt32(f.data.count))
            let key = FwCfg.firstFileKey + UInt16(i)
            dir += [UInt8(key >> 8), UInt8(key & 0xFF), 0, 0]
            var name = Array(f.name.utf8.prefix(55))
            name += [UInt8](repeating: 0, count: 56 - name.count)
            dir += name
            items[key] = f.data
        }
        items[FwCfg.fileDirectoryKey] = dir
    }

    public func portRead(_ port: UInt16, width: Int) -> UInt32 {
        guard port == 0x511 else { return 0 }
        var value: UInt32 = 0
        for i in 0..<width { value |= UInt32(nextByte()) << UInt32(8 * i) }
        return value
    }

    private func nextByte() -> UInt8 {
        guard let data = items[selected], offset < data.count else { return 0 }
        offset += 1
        return data[offset - 1]
    }

    public func portWrite(_ port: UInt16, width: Int, value: UInt32) {
        guard port == 0x510 else { return }
        selected = UInt16(truncatingIfNeeded: value)
        offset = 0
    }

    // MARK: Encodings

    public static func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> UInt32(8 * $0)) } }
    public static func le64(_ v: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: v >> UInt64(8 * $0)) } }
    public static func be32(_ v: UInt32) -> [UInt8] { le32(v).reversed() }

    /// An e820 table: {u64 base, u64 length, u32 type} little-endian per entry.
    public static func e820(_ entries: [(base: UInt64, length: UInt64, type: UInt32)]) -> [UInt8] {
        entries.flatMap { le64($0.base) + le64($0.length) + le32($0.type) }
    }
}
