import ArgumentParser
import Engine

extension DiskCommand {
    struct Info: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show an image's format, sizes and details.")

        @Argument(help: "The image file.") var file: String

        func run() throws {
            let info = try DiskCommand.attempt { () throws(StorageError) in try DiskImage.open(path: file, readOnly: true).info }
            print("image: \(info.path)")
            print("format: \(info.format.rawValue)")
            print("virtual size: \(DiskCommand.humanSize(info.virtualSize)) (\(info.virtualSize) bytes)")
            print("disk size: \(DiskCommand.humanSize(info.allocatedBytes))")
            print("file size: \(info.fileSize) bytes")
            if let cluster = info.clusterSize {
                print("\(info.format == .vdi ? "block" : "cluster") size: \(cluster)")
            }
            for line in info.details { print(line) }
        }
    }
}
