/// `vmtui set NAME KEY=VALUE`: the keys people can change on an existing VM.
extension VMConfig {
    public static let settingKeys: [(key: String, help: String)] = [
        ("mode", "emulate | virtualize"),
        ("os", "linux | windows | dos | other"),
        ("iso", "PATH to an ISO 9660 image, or none"),
        ("floppy", "PATH to a floppy image, or none"),
        ("memory", "MiB (512) or with a unit (1G)"),
        ("cpus", "a whole number"),
        ("boot", "comma list of cdrom, disk, floppy"),
        ("network", "nat | bridge:IFACE | none"),
        ("forwards", "comma list of tcp|udp:HOST:GUEST, or none"),
        ("mac", "unicast MAC address such as 52:54:00:12:34:56"),
        ("disk-interface", "ide | sata | virtio (all disks)"),
        ("disk-full", "pause | report: a full host disk pauses the VM or fails the write in the guest (all disks; N:VALUE for disk N from 0)"),
        ("bios", "PATH to a BIOS image, or default"),
        ("vgabios", "PATH to a VGA BIOS image, or default"),
    ]

    /// Applies one `KEY=VALUE`; unknown keys and bad values throw with what is allowed.
    public mutating func apply(setting: String) throws {
        guard let equals = setting.firstIndex(of: "=") else {
            throw VMConfigError.invalid(file: nil, field: "setting", value: setting, problem: "has no '='",
                                        allowed: "KEY=VALUE with KEY one of \(VMConfig.settingKeys.map(\.key).joined(separator: ", "))")
        }
        let key = setting[..<equals].lowercased()
        let value = String(setting[setting.index(after: equals)...])
        let cleared = ["none", ""].contains(value.lowercased())
        switch key {
        case "mode": mode = try Mode.parse(value, field: key)
        case "os": osType = try OSType.parse(value, field: key)
        case "iso":
            if !cleared { try BootMedia.checkISO(value, field: key) }
            bootISO = cleared ? nil : value
        case "floppy":
            if !cleared { try BootMedia.checkFloppy(value, field: key) }
            floppyImage = cleared ? nil : value
        case "memory": memoryMiB = try VMConfig.parseMemoryMiB(value)
        case "cpus": cpuCount = try VMConfig.parseCPUCount(value)
        case "boot": bootOrder = try VMConfig.parseBootOrder(value)
        case "network":
            let forwards = network.portForwards
            network = try VMConfig.parseNetwork(value)
            if network.mode == .nat { network.portForwards = forwards }
        case "forwards":
            network.portForwards = try VMConfig.parsePortForwards(value)
        case "mac": macAddress = try MACAddress(parsing: value)
        case "disk-interface":
            let interface = try DiskInterface.parse(value, field: key)
            try requireDisks(field: key, value: value)
            for index in disks.indices { disks[index].interface = interface }
        case "disk-full":
            try applyHostDiskFull(value, field: key)
        case "bios":
            let reset = cleared || value == "default"
            if !reset { try FirmwareLocator.check(biosPath: value) }
            firmware.biosPath = reset ? nil : value
        case "vgabios":
            let reset = cleared || value == "default"
            if !reset { try FirmwareLocator.check(vgaBiosPath: value) }
            firmware.vgaBiosPath = reset ? nil : value
        default:
            throw VMConfigError.invalid(file: nil, field: "setting", value: String(key), problem: "is not a known key",
                                        allowed: VMConfig.settingKeys.map(\.key).joined(separator: ", "))
        }
    }

    /// `disk-full=report` sets every disk, `disk-full=1:report` the second one (disks[1]).
    private mutating func applyHostDiskFull(_ value: String, field: String) throws {
        let parts = value.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        let policy = try HostDiskFullPolicy.parse(String(parts.last!), field: field)
        try requireDisks(field: field, value: value)
        guard parts.count == 2 else {
            for index in disks.indices { disks[index].onHostDiskFull = policy }
            return
        }
        guard let index = Int(parts[0]), disks.indices.contains(index) else {
            throw VMConfigError.invalid(file: nil, field: field, value: value, problem: "names no disk of this VM",
                                        allowed: "a disk number from 0 to \(disks.count - 1) (the order vmtui show lists them), as in 0:\(policy.rawValue)")
        }
        disks[index].onHostDiskFull = policy
    }

    /// A disk setting on a VM with no disk is refused, not ignored.
    private func requireDisks(field: String, value: String) throws {
        guard disks.isEmpty else { return }
        throw VMConfigError.invalid(file: nil, field: field, value: value, problem: "has no disk to apply to (this VM has none)",
                                    allowed: "a disk first: the TUI's Edit → Disk, or vmtui create with --disk")
    }
}
