import ArgumentParser
import Engine
import Foundation

struct CreateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Create a VM (every wizard field has a flag).",
        discussion: "Example: vmtui create web --os linux --iso ~/debian.iso --disk 8G --network nat --forward tcp:2222:22"
    )

    @Argument(help: "Name: letters, digits, '.', '_', '-'.")
    var name: String

    @Option(help: "emulate (software CPU, any host) or virtualize (KVM).")
    var mode: String = "emulate"
    @Option(help: "linux, windows, dos or other; sets default memory and disk interface.")
    var os: String = "other"
    @Option(help: "Boot ISO image (checked to be ISO 9660).")
    var iso: String?
    @Option(help: "Floppy image.")
    var floppy: String?
    @Option(help: "Memory in MiB (or 512M, 1G). Default depends on --os.")
    var memory: String?
    @Option(help: "CPU count.")
    var cpus: String = "1"
    @Option(help: "New disk SIZE (e.g. 8G), an existing image PATH, or none (the default).")
    var disk: String?
    @Option(help: "Format of a new disk: qcow2, raw or vdi.")
    var diskFormat: String?
    @Option(help: "Disk interface: ide, sata or virtio. Default depends on --os.")
    var diskInterface: String?
    @Option(help: "Boot order, e.g. cdrom,disk,floppy.")
    var boot: String?
    @Option(help: "nat, bridge:IFACE or none.")
    var network: String = "nat"
    @Option(help: "Port forward tcp:HOST:GUEST or udp:HOST:GUEST (NAT only); repeatable.")
    var forward: [String] = []

    func run() throws {
        let library = VMLibrary()
        try VMName.validate(name)
        var draft = VMDraft()
        draft.name = name
        draft.mode = try VMConfig.Mode.parse(mode, field: "mode")
        draft.osType = try VMConfig.OSType.parse(os, field: "os")
        draft.applyDefaults(for: draft.osType, diskFormat: DiskImages.creator.preferredFormat)
        if let iso {
            draft.iso = PathArgument.absolute(iso)
            try BootMedia.checkISO(draft.iso!)
        }
        if let floppy {
            draft.floppy = PathArgument.absolute(floppy)
            try BootMedia.checkFloppy(draft.floppy!)
        }
        if let memory { draft.memoryMiB = try VMConfig.parseMemoryMiB(memory) }
        draft.cpuCount = try VMConfig.parseCPUCount(cpus)
        if let diskInterface { draft.diskInterface = try VMConfig.DiskInterface.parse(diskInterface, field: "disk-interface") }
        draft.disk = try diskChoice()
        if diskInterface != nil, draft.disk == .none {
            throw CLIError(message: "--disk-interface needs a disk: add --disk SIZE or --disk PATH", code: 2)
        }
        if let boot { draft.bootOrder = try VMConfig.parseBootOrder(boot) }
        draft.network = try VMConfig.parseNetwork(network)
        draft.network.portForwards = try VMConfig.parsePortForwards(forward.joined(separator: ","))
        if !forward.isEmpty, draft.network.mode != .nat {
            throw CLIError(message: "--forward needs --network nat (port forwards are a NAT feature)", code: 2)
        }
        let config = try draft.commit(to: library)
        if config.mode == .virtualize, case let kvm = KVMAvailability.probe(), !kvm.isAvailable {
            CLIOutput.warn("Virtualize: \(kvm.explanation)")
        }
        print("created \(name) in \(library.bundleURL(name: name).path)")
    }

    private func diskChoice() throws -> VMDraft.DiskChoice {
        let explicitFormat = try diskFormat.map { try VMConfig.DiskFormat.parse($0, field: "disk-format") }
        guard let disk, disk.lowercased() != "none" else {
            if diskFormat != nil { throw CLIError(message: "--disk-format needs --disk SIZE or --disk PATH", code: 2) }
            return .none
        }
        let path = PathArgument.absolute(disk)
        if !FileManager.default.fileExists(atPath: path), let size = ByteSize.parse(disk) {
            return .new(sizeBytes: size, format: explicitFormat ?? DiskImages.creator.preferredFormat)
        }
        guard FileManager.default.fileExists(atPath: path) else {
            throw VMConfigError.invalid(file: nil, field: "disk", value: disk, problem: "is neither a size nor an existing image",
                                        allowed: "a size such as 8G, an existing image path, or none")
        }
        let format = try BootMedia.checkDiskImage(path)
        if let explicitFormat, explicitFormat != format {
            throw CLIError(message: "--disk-format \(explicitFormat.rawValue) does not match \(path), which is a \(format.rawValue) image "
                           + "(vmtui disk info \(path)); leave --disk-format out for an existing image", code: 2)
        }
        return .existing(path: path, format: format)
    }
}
