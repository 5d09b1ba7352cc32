import ArgumentParser
import Engine

extension DiskCommand {
    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an empty image; qcow2 and VDI grow as the guest writes.")

        @Argument(help: "The new image file (must not exist).") var file: String
        @Option(help: "qcow2, vdi or raw.") var format: String
        @Option(help: "Virtual size, e.g. 20G or 512M.") var size: String
        @Option(help: "qcow2 version: 1.1 (v3, default) or 0.10 (v2, for very old QEMU).") var compat: String = "1.1"
        @Option(help: "qcow2 cluster size, a power of two from 512 to 2M.") var clusterSize: String = "64K"
        @Flag(help: "Allocate everything now: a fixed VDI or a fully allocated raw file.") var preallocate = false

        func run() throws {
            let format = try DiskCommand.parseFormat(self.format)
            let bytes = try DiskCommand.parseSize(size, what: "size")
            var options = DiskCreateOptions(preallocate: preallocate)
            switch compat {
            case "1.1", "v3", "3": options.qcow2Version = 3
            case "0.10", "v2", "2": options.qcow2Version = 2
            default: throw DiskCommand.usageError("compat '\(compat)' is unknown (use 1.1 or 0.10)")
            }
            guard let cluster = DiskImage.parseSize(clusterSize), cluster >= 512, cluster <= 2 << 20,
                  cluster & (cluster - 1) == 0 else {
                throw DiskCommand.usageError("cluster size '\(clusterSize)' must be a power of two from 512 to 2M")
            }
            options.qcow2ClusterSize = Int(cluster)
            try DiskCommand.refuseExisting(file)
            try DiskCommand.attempt { () throws(StorageError) in
                try DiskImage.create(path: file, format: format, size: bytes, options: options).flush()
            }
            print("created \(file): \(format.rawValue), \(DiskCommand.humanSize(bytes))")
        }
    }
}
