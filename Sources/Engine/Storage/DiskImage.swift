/// Opening, creating and converting disk images. The format always comes from the file's
/// contents (its magic), never from its name.
public enum DiskImage {
    static let maxBackingDepth = 16

    /// Identifies the format of an existing image. Formats we do not read (VMDK, VHD, VHDX, QED)
    /// are refused with the conversion command rather than mistaken for raw disks.
    public static func probe(path: String) throws(StorageError) -> VMConfig.DiskFormat {
        let file = try ImageFile(path: path, readOnly: true)
        return try probe(file)
    }

    static func probe(_ file: ImageFile) throws(StorageError) -> VMConfig.DiskFormat {
        let head = StorageBytes(try file.read(at: 0, count: 512))
        if head.be32(0) == QCOW2Header.magic { return .qcow2 }
        if file.length >= 0x48, head.le32(0x40) == VDIHeader.signature { return .vdi }
        let foreign: [(magic: String, at: Int, name: String)] = [
            ("KDMV", 0, "VMDK"), ("# Disk DescriptorFile", 0, "VMDK"), ("conectix", 0, "VHD"),
            ("vhdxfile", 0, "VHDX"), ("QED\0", 0, "QED"),
        ]
        for format in foreign where head.slice(format.at, format.magic.utf8.count) == Array(format.magic.utf8) {
            throw file.error("is a \(format.name) image, which vmtui does not read; convert it with: qemu-img convert -O qcow2 \(file.path) disk.qcow2")
        }
        return .raw
    }

    /// Opens an image of any supported format, probing its contents.
    public static func open(path: String, readOnly: Bool) throws(StorageError) -> any DiskImageFile {
        try open(path: path, readOnly: readOnly, backingDepth: 0)
    }

    static func open(path: String, readOnly: Bool, backingDepth: Int) throws(StorageError) -> any DiskImageFile {
        let file = try ImageFile(path: path, readOnly: readOnly)
        switch try probe(file) {
        case .qcow2: return try QCOW2Image(file: file, backingDepth: backingDepth)
        case .vdi: return try VDIImage(file: file)
        case .raw: return RawImage(file: file)
        }
    }

    /// Creates a new image of `size` bytes (a multiple of 512), replacing any file at `path`.
    /// qcow2 and VDI start with almost nothing allocated; raw starts as one big hole.
    public static func create(path: String, format: VMConfig.DiskFormat, size: UInt64,
                              options: DiskCreateOptions = DiskCreateOptions()) throws(StorageError) -> any DiskImageFile {
        guard size % 512 == 0 else {
            throw StorageError(path: path, problem: "size \(size) is not a multiple of 512 bytes (one sector)")
        }
        switch format {
        case .qcow2:
            let bits = options.qcow2ClusterSize.trailingZeroBitCount
            guard options.qcow2ClusterSize > 0, options.qcow2ClusterSize == 1 << bits else {
                throw StorageError(path: path, problem: "cluster size \(options.qcow2ClusterSize) is not a power of two")
            }
            return try QCOW2Image.create(path: path, size: size, version: options.qcow2Version, clusterBits: bits)
        case .vdi:
            return try VDIImage.create(path: path, size: size, fixed: options.preallocate)
        case .raw:
            return try RawImage.create(path: path, size: size, preallocate: options.preallocate)
        }
    }

    /// Copies the guest-visible contents of `source` into a new image at `destination`.
    /// All-zero stretches are skipped, so the copy stays sparse.
    public static func convert(from source: String, to destination: String, format: VMConfig.DiskFormat,
                               options: DiskCreateOptions = DiskCreateOptions()) throws(StorageError) -> DiskImageInfo {
        guard source != destination else {
            throw StorageError(path: destination, problem: "is also the source; convert into a different file")
        }
        let input = try open(path: source, readOnly: true)
        let output = try create(path: destination, format: format, size: (input.size + 511) / 512 * 512, options: options)
        // 64 KiB pieces (qcow2's default cluster): empty ones are skipped unread, zero ones unwritten.
        let piece = 1 << 16
        var buffer = [UInt8](repeating: 0, count: piece)
        var offset: UInt64 = 0
        while offset < input.size {
            let count = Int(min(UInt64(piece), input.size - offset))
            if try !input.readsAsZeros(at: offset, count: count) {
                try buffer.withUnsafeMutableBufferPointer { (bytes) throws(StorageError) in
                    let part = UnsafeMutableRawBufferPointer(rebasing: UnsafeMutableRawBufferPointer(bytes)[0..<count])
                    try input.read(at: offset, into: part)
                    if part.contains(where: { $0 != 0 }) {
                        try output.write(at: offset, from: UnsafeRawBufferPointer(part))
                    }
                }
            }
            offset += UInt64(count)
        }
        try output.flush()
        return output.info
    }

    /// Parses a size such as `20G`, `512M`, `1.5T`, `4096` (bytes) or `64KiB`; binary units.
    /// Returns nil for anything else, including sizes that overflow.
    public static func parseSize(_ text: String) -> UInt64? {
        var number = text.trimmingPrefixAndSuffixSpaces().uppercased()
        for suffix in ["IB", "B"] where number.hasSuffix(suffix) && number.count > suffix.count {
            number.removeLast(suffix.count)
            break
        }
        let units: [Character: UInt64] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40, "P": 1 << 50]
        var multiplier: UInt64 = 1
        if let last = number.last, let unit = units[last] {
            multiplier = unit
            number.removeLast()
        }
        guard !number.isEmpty, number.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }) else { return nil }
        let parts = number.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2, let whole = UInt64(parts[0].isEmpty ? "0" : parts[0]) else { return nil }
        let (scaled, overflow) = whole.multipliedReportingOverflow(by: multiplier)
        guard !overflow else { return nil }
        guard parts.count == 2 else { return scaled }
        // A fraction: exact in binary units for the digits people type (1.5G, 0.25T).
        let digits = parts[1]
        guard !digits.isEmpty, digits.count <= 6, let fraction = UInt64(digits) else { return nil }
        var scale: UInt64 = 1
        for _ in 0..<digits.count { scale *= 10 }
        let (part, overflow2) = fraction.multipliedReportingOverflow(by: multiplier)
        guard !overflow2 else { return nil }
        let (total, overflow3) = scaled.addingReportingOverflow(part / scale)
        return overflow3 ? nil : total
    }
}

private extension String {
    func trimmingPrefixAndSuffixSpaces() -> String {
        String(drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }
}
