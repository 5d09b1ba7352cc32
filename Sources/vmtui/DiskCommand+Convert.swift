import ArgumentParser
import Engine

extension DiskCommand {
    struct Convert: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy an image into a new file of another format (only written data is stored).")

        @Argument(help: "The source image (any supported format).") var source: String
        @Argument(help: "The new image file (must not exist).") var destination: String
        @Option(help: "Format of the new image: qcow2, vdi or raw.") var format: String

        func run() throws {
            let format = try DiskCommand.parseFormat(self.format)
            try DiskCommand.refuseExisting(destination)
            let info = try DiskCommand.attempt { () throws(StorageError) in
                try DiskImage.convert(from: source, to: destination, format: format)
            }
            print("converted \(source) to \(destination): \(format.rawValue), \(DiskCommand.humanSize(info.virtualSize)), \(DiskCommand.humanSize(info.allocatedBytes)) on disk")
        }
    }
}
