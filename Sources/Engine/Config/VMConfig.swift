/// Everything that defines a virtual machine, as stored in `NAME.vmtui/config.json`.
/// What the guest sees lives here; the host side (image files, bridges) is named by path.
public struct VMConfig: Codable, Equatable, Sendable {
    public static let currentSchemaVersion = 1

    public enum Mode: String, ConfigEnum { case emulate, virtualize }

    public enum OSType: String, ConfigEnum {
        case linux, windows, dos, other

        /// Defaults a new VM of this OS type starts from.
        public var defaultMemoryMiB: Int {
            switch self { case .linux: 512; case .windows: 1024; case .dos: 16; case .other: 128 }
        }
        public var defaultDiskBytes: UInt64 {
            switch self {
            case .linux: 8 << 30; case .windows: 20 << 30; case .dos: 512 << 20; case .other: 1 << 30
            }
        }
        public var defaultDiskInterface: DiskInterface {
            switch self { case .linux: .virtio; case .windows: .sata; case .dos, .other: .ide }
        }
    }

    public enum DiskFormat: String, ConfigEnum { case qcow2, raw, vdi }
    public enum DiskInterface: String, ConfigEnum {
        case ide, sata, virtio

        /// Disks the PC's controller for this interface takes (Machine+Storage): the PIIX3's
        /// primary IDE channel, the AHCI's six ports, one virtio-blk function per slot 05-08.
        public var diskLimit: Int {
            switch self { case .ide: 2; case .sata: 6; case .virtio: 4 }
        }
    }
    public enum BootDevice: String, ConfigEnum { case cdrom, disk, floppy }

    public struct Disk: Codable, Equatable, Sendable {
        /// Image file; relative paths are inside the VM bundle.
        public var path: String
        public var format: DiskFormat
        /// Size to create the image with; nil for an existing image.
        public var sizeBytes: UInt64?
        public var interface: DiskInterface
        /// A guest write that finds the host disk full pauses the VM or fails in the guest.
        public var onHostDiskFull: HostDiskFullPolicy
        public init(path: String, format: DiskFormat, sizeBytes: UInt64?, interface: DiskInterface,
                    onHostDiskFull: HostDiskFullPolicy = .pause) {
            self.path = path
            self.format = format
            self.sizeBytes = sizeBytes
            self.interface = interface
            self.onHostDiskFull = onHostDiskFull
        }

        private enum CodingKeys: String, CodingKey { case path, format, sizeBytes, interface, onHostDiskFull }

        /// Configs written before the policy existed have no `onHostDiskFull`: they pause.
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            path = try c.decode(String.self, forKey: .path)
            format = try c.decode(DiskFormat.self, forKey: .format)
            sizeBytes = try c.decodeIfPresent(UInt64.self, forKey: .sizeBytes)
            interface = try c.decode(DiskInterface.self, forKey: .interface)
            onHostDiskFull = try c.decodeIfPresent(HostDiskFullPolicy.self, forKey: .onHostDiskFull) ?? .pause
        }
    }

    public struct PortForward: Codable, Equatable, Sendable {
        public enum Proto: String, ConfigEnum { case tcp, udp }
        public var proto: Proto
        public var hostPort: Int
        public var guestPort: Int
        public init(proto: Proto, hostPort: Int, guestPort: Int) {
            self.proto = proto
            self.hostPort = hostPort
            self.guestPort = guestPort
        }

        /// The index of the first forward whose protocol and host port an earlier one already uses.
        public static func firstRepeatedHostPort(in forwards: [PortForward]) -> Int? {
            var seen = Set<String>()
            return forwards.firstIndex { !seen.insert("\($0.proto.rawValue):\($0.hostPort)").inserted }
        }
    }

    public struct Network: Codable, Equatable, Sendable {
        public enum Mode: String, ConfigEnum { case nat, bridge, none }
        public var mode: Mode
        /// Host bridge for `bridge` mode (e.g. br0).
        public var bridgeInterface: String?
        /// Used in NAT mode; kept while the VM is bridged so switching back restores them.
        public var portForwards: [PortForward]
        public init(mode: Mode, bridgeInterface: String? = nil, portForwards: [PortForward] = []) {
            self.mode = mode
            self.bridgeInterface = bridgeInterface
            self.portForwards = portForwards
        }
    }

    public struct Firmware: Codable, Equatable, Sendable {
        /// Overrides of the Debian seabios package's files.
        public var biosPath: String?
        public var vgaBiosPath: String?
        public init(biosPath: String? = nil, vgaBiosPath: String? = nil) {
            self.biosPath = biosPath
            self.vgaBiosPath = vgaBiosPath
        }
    }

    public var schemaVersion: Int
    public var name: String
    public var mode: Mode
    public var osType: OSType
    public var bootISO: String?
    public var floppyImage: String?
    public var memoryMiB: Int
    public var cpuCount: Int
    public var disks: [Disk]
    public var bootOrder: [BootDevice]
    public var network: Network
    /// The NIC's address, kept for the VM's life. Optional only for configs written before it
    /// existed: `VMLibrary.load` gives those one and saves it.
    public var macAddress: MACAddress?
    public var firmware: Firmware

    public init(name: String, mode: Mode = .emulate, osType: OSType = .other,
                bootISO: String? = nil, floppyImage: String? = nil,
                memoryMiB: Int? = nil, cpuCount: Int = 1, disks: [Disk] = [],
                bootOrder: [BootDevice] = [.cdrom, .disk, .floppy],
                network: Network = Network(mode: .nat), macAddress: MACAddress = .generate(),
                firmware: Firmware = Firmware()) {
        schemaVersion = VMConfig.currentSchemaVersion
        self.name = name
        self.mode = mode
        self.osType = osType
        self.bootISO = bootISO
        self.floppyImage = floppyImage
        self.memoryMiB = memoryMiB ?? osType.defaultMemoryMiB
        self.cpuCount = cpuCount
        self.disks = disks
        self.bootOrder = bootOrder
        self.network = network
        self.macAddress = macAddress
        self.firmware = firmware
    }
}
