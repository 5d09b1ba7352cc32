import ArgumentParser
import Engine
import Foundation

extension DiskCommand {
    /// The child of the crash tests: runs `DiskWorkload` until killed, reporting progress on stdout.
    struct Exercise: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Random writes until killed, for crash tests.", shouldDisplay: false)

        @Argument(help: "The image file.") var file: String
        @Option(help: "Workload seed.") var seed: UInt64 = 1
        @Option(help: "Flush after this many writes.") var flushEvery: Int = 16
        @Option(help: "Largest write in sectors.") var maxSectors: Int = 256
        @Option(help: "Stop after this many writes (0: run until killed).") var limit: Int = 0

        func run() throws {
            guard flushEvery > 0, maxSectors > 0, limit >= 0 else {
                throw DiskCommand.usageError("flush-every and max-sectors must be positive, limit not negative")
            }
            try DiskCommand.attempt { () throws(StorageError) in try exercise() }
        }

        private func exercise() throws(StorageError) {
            let out = FileHandle.standardOutput
            let image = try DiskImage.open(path: file, readOnly: false)
            let workload = DiskWorkload(seed: seed, diskSize: image.size, maxSectors: maxSectors)
            var index = 0
            while limit == 0 || index < limit {
                // "begin N": write N may be on disk; "flushed N": writes before N are durable.
                out.write(Data("begin \(index)\n".utf8))
                try workload.perform(index, on: image)
                index += 1
                if index % flushEvery == 0 {
                    try image.flush()
                    out.write(Data("flushed \(index)\n".utf8))
                }
            }
            try image.flush()
            out.write(Data("flushed \(index)\n".utf8))
        }
    }
}
