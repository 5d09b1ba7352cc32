import Engine
import Foundation

/// Human-readable lines for `vmtui show` and the main screen's detail pane.
extension VMConfig {
    var modeLabel: String {
        mode == .emulate ? "Emulate (software CPU)" : "Virtualize (KVM)"
    }
    /// What the VM runs on, for the list: EMU (software CPU) or KVM.
    var modeShort: String { mode == .emulate ? "EMU" : "KVM" }
    /// Five columns at most, for the library list.
    var osShort: String { osType == .windows ? "Win" : osLabel }
    var osLabel: String {
        switch osType { case .linux: "Linux"; case .windows: "Windows"; case .dos: "DOS"; case .other: "Other" }
    }

    /// "disk0.img  raw  8 GiB (12 MiB used)  virtio  host full: pause": the space used is what
    /// the sparse image really takes on the host; the last part is what a full host disk does.
    private func diskLines(library: VMLibrary) -> [String] {
        if disks.isEmpty { return ["none"] }
        return disks.map { disk in
            var size = disk.sizeBytes.map(ByteSize.format) ?? "existing"
            var info = stat()
            if stat(library.imageURL(of: disk, vm: name).path, &info) == 0 {
                size += " (\(ByteSize.format(UInt64(info.st_blocks) * 512)) used)"
            } else {
                size += " (image missing)"
            }
            return "\(disk.path)  \(disk.format.rawValue)  \(size)  \(disk.interface.rawValue)  host full: \(disk.onHostDiskFull.rawValue)"
        }
    }

    /// Label/value pairs in display order.
    func details(library: VMLibrary) -> [(String, String)] {
        var rows: [(String, String)] = [
            ("Mode", modeLabel),
            ("OS", osLabel),
            ("Memory", "\(memoryMiB) MiB"),
            ("CPUs", "\(cpuCount)"),
            ("ISO", bootISO ?? "none"),
        ]
        if let floppyImage { rows.append(("Floppy", floppyImage)) }
        for (index, line) in diskLines(library: library).enumerated() { rows.append((index == 0 ? "Disk" : "", line)) }
        rows.append(("Boot", bootOrder.map(\.rawValue).joined(separator: ", ")))
        rows.append(("Network", networkSummary))
        rows.append(("MAC", macAddress?.description ?? "assigned when first loaded"))
        if let bios = firmware.biosPath { rows.append(("BIOS", bios)) }
        if let vga = firmware.vgaBiosPath { rows.append(("VGA BIOS", vga)) }
        return rows
    }
}
