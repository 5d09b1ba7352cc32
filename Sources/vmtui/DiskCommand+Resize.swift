import ArgumentParser
import Engine

extension DiskCommand {
    struct Resize: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Grow an image's virtual size (shrinking is refused). Grow the guest's partitions afterwards.")

        @Argument(help: "The image file.") var file: String
        @Argument(help: "The new virtual size, e.g. 40G.") var size: String

        func run() throws {
            let bytes = try DiskCommand.parseSize(size, what: "size")
            let image = try DiskCommand.attempt { () throws(StorageError) in try DiskImage.open(path: file, readOnly: false) }
            guard bytes >= image.size else {
                throw DiskCommand.usageError("\(file) is \(image.size) bytes; shrinking to \(bytes) would cut off guest data")
            }
            try DiskCommand.attempt { () throws(StorageError) in
                try image.resize(to: bytes)
                try image.flush()
            }
            print("resized \(file) to \(DiskCommand.humanSize(bytes))")
        }
    }
}
