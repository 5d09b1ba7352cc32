import Engine
import Foundation

/// A VM being created or edited: what the wizard's steps and `vmtui create`'s flags fill in,
/// turned into a VMConfig (and new disk images) only when the user confirms.
struct VMDraft {
    enum DiskChoice: Equatable {
        case none
        case new(sizeBytes: UInt64, format: VMConfig.DiskFormat)
        case existing(path: String, format: VMConfig.DiskFormat)
        /// Editing: keep the disks the VM already has.
        case keep
    }

    var name = ""
    var mode = VMConfig.Mode.emulate
    var osType = VMConfig.OSType.other
    var iso: String?
    var floppy: String?
    var memoryMiB = VMConfig.OSType.other.defaultMemoryMiB
    var cpuCount = 1
    var disk = DiskChoice.none
    var diskInterface = VMConfig.OSType.other.defaultDiskInterface
    var bootOrder: [VMConfig.BootDevice]?
    var network = VMConfig.Network(mode: .nat)
    /// The config being edited; nil when creating.
    var original: VMConfig?

    init() {}

    init(editing config: VMConfig) {
        original = config
        name = config.name
        mode = config.mode
        osType = config.osType
        iso = config.bootISO
        floppy = config.floppyImage
        memoryMiB = config.memoryMiB
        cpuCount = config.cpuCount
        disk = config.disks.isEmpty ? .none : .keep
        diskInterface = config.disks.first?.interface ?? config.osType.defaultDiskInterface
        bootOrder = config.bootOrder
        network = config.network
    }

    /// Choosing an OS type resets the values it has defaults for.
    mutating func applyDefaults(for os: VMConfig.OSType, diskFormat: VMConfig.DiskFormat) {
        osType = os
        memoryMiB = os.defaultMemoryMiB
        diskInterface = os.defaultDiskInterface
        if case .new = disk { disk = .new(sizeBytes: os.defaultDiskBytes, format: diskFormat) }
    }

    func makeConfig(library: VMLibrary) -> VMConfig {
        var disks: [VMConfig.Disk]
        switch disk {
        case .none: disks = []
        case let .new(size, format):
            disks = [.init(path: library.newDiskName(vm: name, format: format), format: format, sizeBytes: size, interface: diskInterface)]
        case let .existing(path, format):
            disks = [.init(path: path, format: format, sizeBytes: nil, interface: diskInterface)]
        case .keep:
            disks = original?.disks ?? []
            for index in disks.indices { disks[index].interface = diskInterface }
        }
        var config = original ?? VMConfig(name: name)
        config.name = name
        config.mode = mode
        config.osType = osType
        config.bootISO = iso
        config.floppyImage = floppy
        config.memoryMiB = memoryMiB
        config.cpuCount = cpuCount
        config.disks = disks
        config.network = network
        config.bootOrder = bootOrder ?? VMConfig.BootDevice.allCases
        return config
    }

    /// Images in the VM's bundle that the edited config no longer uses: they are kept (the
    /// user's data), and the wizard says so.
    func detachedImages(library: VMLibrary) -> [String] {
        guard let original else { return [] }
        let kept = Set(makeConfig(library: library).disks.map(\.path))
        return original.disks.map(\.path).filter { !$0.hasPrefix("/") && !kept.contains($0) }
    }

    /// Writes the VM: creates it (and its new disk image) or saves the edited config.
    func commit(to library: VMLibrary) throws -> VMConfig {
        let config = makeConfig(library: library)
        if original == nil {
            try library.create(config, diskCreator: DiskImages.creator)
        } else {
            try library.update(config, diskCreator: DiskImages.creator)
        }
        return config
    }
}
