import Engine

/// Human-readable lines for `vmtui show` and the main screen's detail pane.
extension VMConfig {
    var modeLabel: String { mode == .emulate ? "Emulate (software CPU)" : "Virtualize (KVM)" }
    var modeShort: String { mode == .emulate ? "EMU" : "KVM" }
    var osLabel: String {
        switch osType { case .linux: "Linux"; case .windows: "Windows"; case .dos: "DOS"; case .other: "Other" }
    }

    func diskLines(library: VMLibrary) -> [String] {
        if disks.isEmpty { return ["none"] }
        return disks.map { disk in
            let size = disk.sizeBytes.map(ByteSize.format) ?? "existing"
            return "\(disk.path)  \(disk.format.rawValue)  \(size)  \(disk.interface.rawValue)"
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
        if let bios = firmware.biosPath { rows.append(("BIOS", bios)) }
        if let vga = firmware.vgaBiosPath { rows.append(("VGA BIOS", vga)) }
        return rows
    }
}
