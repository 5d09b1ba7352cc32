import Foundation

/// The VMs on disk: one bundle `NAME.vmtui/` (config.json and disk images) per VM under
/// `$VMTUI_HOME/VMs/`, where VMTUI_HOME defaults to `${XDG_DATA_HOME:-~/.local/share}/vmtui`.
public struct VMLibrary: Sendable {
    public let home: URL
    public var limits: HostLimits

    /// One bundle as listed: a usable VM, or a broken one with the reason it cannot be loaded.
    public enum Entry: Sendable, Equatable {
        case vm(VMConfig)
        case broken(name: String, reason: String)

        public var name: String {
            switch self {
            case let .vm(config): config.name
            case let .broken(name, _): name
            }
        }
    }

    public init(home: URL = VMLibrary.defaultHome(), limits: HostLimits = .current()) {
        self.home = home
        self.limits = limits
    }

    public static func defaultHome(environment: [String: String] = ProcessInfo.processInfo.environment) -> URL {
        if let explicit = environment["VMTUI_HOME"], !explicit.isEmpty {
            return URL(fileURLWithPath: explicit, isDirectory: true)
        }
        let data = environment["XDG_DATA_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (environment["HOME"] ?? NSHomeDirectory()) + "/.local/share"
        return URL(fileURLWithPath: data, isDirectory: true).appendingPathComponent("vmtui", isDirectory: true)
    }

    public var vmsDirectory: URL { home.appendingPathComponent("VMs", isDirectory: true) }

    public func bundleURL(name: String) -> URL {
        vmsDirectory.appendingPathComponent("\(name).vmtui", isDirectory: true)
    }

    public func configURL(name: String) -> URL {
        bundleURL(name: name).appendingPathComponent("config.json")
    }

    /// A disk's image file: relative paths live inside the VM's bundle.
    public func imageURL(of disk: VMConfig.Disk, vm name: String) -> URL {
        disk.path.hasPrefix("/") ? URL(fileURLWithPath: disk.path) : bundleURL(name: name).appendingPathComponent(disk.path)
    }

    public func exists(name: String) -> Bool {
        FileManager.default.fileExists(atPath: bundleURL(name: name).path)
    }

    /// Every bundle, sorted by name; one broken config does not hide the others.
    public func list() -> [Entry] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: vmsDirectory.path)) ?? []
        return names.filter { $0.hasSuffix(".vmtui") }.sorted().map { bundle in
            let name = String(bundle.dropLast(".vmtui".count))
            do { return .vm(try load(name: name)) } catch let error as VMConfigError {
                return .broken(name: name, reason: error.reason)
            } catch {
                return .broken(name: name, reason: "\(error)")
            }
        }
    }

    /// Reads and validates one VM's config.json. `validating: false` only decodes it (a newer
    /// schema is still refused), so `vmtui set` can repair a value that is out of range.
    public func load(name: String, validating: Bool = true) throws -> VMConfig {
        let url = configURL(name: name)
        let file = url.path
        guard exists(name: name) else { throw VMConfigError.notFound(name: name, bundle: bundleURL(name: name).path) }
        try VMName.validate(name)
        let config = try load(configFile: url, validating: validating)
        guard validating else { return config }
        guard config.name == name else {
            throw VMConfigError.invalid(file: file, field: "name", value: "\"\(config.name)\"",
                                        problem: "does not match the bundle \(name).vmtui", allowed: "\"\(name)\"")
        }
        return config
    }

    /// Reads and validates a config.json anywhere (`vmtui run --config FILE`), as load(name:) does.
    public func load(configFile url: URL, validating: Bool = true) throws -> VMConfig {
        let file = url.path
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            let reason = FileManager.default.fileExists(atPath: file) ? "cannot be read: \(FileErrorText.describe(error))" : "\(url.lastPathComponent) is missing"
            throw VMConfigError.malformed(file: file, reason: reason)
        }
        let config = try VMConfigDecoding.decode(data, file: file)
        guard validating else { return config }
        do { try config.validate(limits: limits) } catch let error as VMConfigError { throw error.located(in: file) }
        return config
    }

    /// Validates and writes a VM's config.json atomically, creating the bundle if needed.
    public func save(_ config: VMConfig) throws {
        try config.validate(limits: limits)
        let bundle = bundleURL(name: config.name)
        do { try FileManager.default.createDirectory(at: bundle, withIntermediateDirectories: true) } catch {
            throw VMLibrary.cannotCreate(bundle, error)
        }
        try AtomicFile.write(VMConfigDecoding.encode(config), to: configURL(name: config.name))
    }

    /// Adds a new VM: makes its bundle, creates the new disk images it lists, writes config.json.
    /// Nothing is left behind if any step fails.
    public func create(_ config: VMConfig, diskCreator: any DiskImageCreator = ImageDiskCreator()) throws {
        try config.validate(limits: limits)
        let bundle = bundleURL(name: config.name)
        guard !exists(name: config.name) else { throw VMConfigError.alreadyExists(name: config.name, bundle: bundle.path) }
        try checkExistingImages(of: config, except: [])
        do { try FileManager.default.createDirectory(at: bundle, withIntermediateDirectories: true) } catch {
            throw VMLibrary.cannotCreate(bundle, error)
        }
        do {
            _ = try createMissingImages(of: config, with: diskCreator)
            try save(config)
        } catch {
            try? FileManager.default.removeItem(at: bundle)
            throw error
        }
    }

    private static func cannotCreate(_ bundle: URL, _ error: any Error) -> VMConfigError {
        .io(path: bundle.path, reason: "cannot create the VM folder: \(FileErrorText.describe(error)); "
            + "set VMTUI_HOME to a folder you can write (the VMs go in its VMs/ folder)")
    }

    /// Saves an existing VM's changed config, creating the images of disks added to it (a disk
    /// it already had is never re-created, even if its image went missing). If saving fails,
    /// the images just created are removed again.
    public func update(_ config: VMConfig, diskCreator: any DiskImageCreator = ImageDiskCreator()) throws {
        try config.validate(limits: limits)
        guard exists(name: config.name) else {
            throw VMConfigError.notFound(name: config.name, bundle: bundleURL(name: config.name).path)
        }
        let known = Set((try? load(name: config.name, validating: false))?.disks.map(\.path) ?? [])
        try checkExistingImages(of: config, except: known)
        var added = config
        added.disks.removeAll { known.contains($0.path) }
        let created = try createMissingImages(of: added, with: diskCreator)
        do { try save(config) } catch {
            for url in created { try? FileManager.default.removeItem(at: url) }
            throw error
        }
    }

    /// The existing images a config brings in (all but the paths in `known`) must open as
    /// `vmtui disk info` opens them and be the format the config says, or the VM could not start.
    private func checkExistingImages(of config: VMConfig, except known: Set<String>) throws {
        for (index, disk) in config.disks.enumerated() where disk.sizeBytes == nil && !known.contains(disk.path) {
            let format = try BootMedia.checkDiskImage(imageURL(of: disk, vm: config.name).path, field: "disks[\(index)].path")
            guard format == disk.format else {
                throw VMConfigError.invalid(file: nil, field: "disks[\(index)].format", value: disk.format.rawValue,
                                            problem: "does not match the image, which is \(format.rawValue)", allowed: format.rawValue)
            }
        }
    }

    /// Creates the image of every disk that has a size to create it with and no file yet.
    private func createMissingImages(of config: VMConfig, with creator: any DiskImageCreator) throws -> [URL] {
        var created: [URL] = []
        do {
            for disk in config.disks {
                let url = imageURL(of: disk, vm: config.name)
                guard let size = disk.sizeBytes, !FileManager.default.fileExists(atPath: url.path) else { continue }
                try creator.create(at: url, format: disk.format, sizeBytes: size)
                created.append(url)
            }
        } catch {
            for url in created { try? FileManager.default.removeItem(at: url) }
            throw error
        }
        return created
    }

    /// Removes a VM's bundle with its disk images (images outside the bundle are kept); refused
    /// while the VM runs, in any process (its bundle lock is held).
    public func delete(name: String) throws {
        guard exists(name: name) else { throw VMConfigError.notFound(name: name, bundle: bundleURL(name: name).path) }
        guard !BundleLock.isHeld(bundle: bundleURL(name: name)) else {
            throw VMConfigError.io(path: bundleURL(name: name).path,
                                   reason: "\(name) is running: stop it first (vmtui stop \(name), or Ctrl-] o in its console)")
        }
        do { try FileManager.default.removeItem(at: bundleURL(name: name)) } catch {
            throw VMConfigError.io(path: bundleURL(name: name).path, reason: "cannot delete: \(FileErrorText.describe(error))")
        }
    }

    /// A file name for a new disk that is not taken in the VM's bundle: disk0.qcow2, disk1.img, ...
    public func newDiskName(vm name: String, format: VMConfig.DiskFormat) -> String {
        let ext = format == .raw ? "img" : format.rawValue
        var index = 0
        while FileManager.default.fileExists(atPath: bundleURL(name: name).appendingPathComponent("disk\(index).\(ext)").path) {
            index += 1
        }
        return "disk\(index).\(ext)"
    }
}
