extension VMConfig {
    public static let maxDiskBytes: UInt64 = 16 << 40
    public static let minDiskBytes: UInt64 = 1 << 20

    /// Checks every field against what vmtui and this host allow; the error names the first bad field.
    public func validate(limits: HostLimits) throws {
        func bad(_ field: String, _ value: Any, _ problem: String, _ allowed: String) -> VMConfigError {
            .invalid(file: nil, field: field, value: "\(value)", problem: problem, allowed: allowed)
        }
        guard schemaVersion >= 1, schemaVersion <= VMConfig.currentSchemaVersion else {
            throw bad("schemaVersion", schemaVersion, "is not supported", "1…\(VMConfig.currentSchemaVersion)")
        }
        try VMName.validate(name)
        guard limits.memoryRange.contains(memoryMiB) else {
            throw bad("memoryMiB", memoryMiB, "is out of range", "\(limits.memoryRange.lowerBound)…\(limits.memoryRange.upperBound) MiB (\(limits.memoryLimitReason))")
        }
        guard limits.cpuRange.contains(cpuCount) else {
            throw bad("cpuCount", cpuCount, "is out of range", "1…\(HostLimits.maximumCPUCount)")
        }
        if let iso = bootISO, iso.isEmpty { throw bad("bootISO", "\"\"", "is empty", "a path, or no bootISO key") }
        if let floppy = floppyImage, floppy.isEmpty { throw bad("floppyImage", "\"\"", "is empty", "a path, or no floppyImage key") }
        for (index, disk) in disks.enumerated() {
            let field = "disks[\(index)]"
            guard !disk.path.isEmpty else { throw bad("\(field).path", "\"\"", "is empty", "an image path") }
            if !disk.path.hasPrefix("/"), disk.path.contains("/") || disk.path.hasPrefix(".") {
                throw bad("\(field).path", disk.path, "is not a plain file name inside the bundle",
                          "a file name such as disk0.qcow2, or an absolute path")
            }
            if let size = disk.sizeBytes, !(VMConfig.minDiskBytes...VMConfig.maxDiskBytes).contains(size) {
                throw bad("\(field).sizeBytes", size, "is out of range", "1 MiB…16 TiB")
            }
        }
        for interface in DiskInterface.allCases {
            let count = disks.filter { $0.interface == interface }.count
            if count > interface.diskLimit {
                throw bad("disks", "\(count) \(interface.rawValue) disks", "is too many",
                          DiskInterface.allCases.map { "\($0.diskLimit) on \($0.rawValue)" }.joined(separator: ", "))
            }
        }
        guard !bootOrder.isEmpty, Set(bootOrder).count == bootOrder.count else {
            throw bad("bootOrder", bootOrder.map(\.rawValue), "must list each device once", BootDevice.allowedList)
        }
        switch network.mode {
        case .bridge:
            guard let bridge = network.bridgeInterface, !bridge.isEmpty else {
                throw bad("network.bridgeInterface", "nothing", "is required in bridge mode", "a host bridge such as br0")
            }
            guard bridge.count <= 15, !bridge.contains("/"), !bridge.contains(" ") else {
                throw bad("network.bridgeInterface", bridge, "is not an interface name", "up to 15 characters, no '/' or spaces")
            }
        case .nat, .none:
            break
        }
        for (index, forward) in network.portForwards.enumerated() {
            let field = "network.portForwards[\(index)]"
            for (key, port) in [("hostPort", forward.hostPort), ("guestPort", forward.guestPort)] where !(1...65535).contains(port) {
                throw bad("\(field).\(key)", port, "is out of range", "1…65535")
            }
        }
        if let index = PortForward.firstRepeatedHostPort(in: network.portForwards) {
            throw bad("network.portForwards[\(index)].hostPort", network.portForwards[index].hostPort, "is forwarded twice",
                      "each host port once per protocol")
        }
    }
}
