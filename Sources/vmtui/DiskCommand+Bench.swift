import ArgumentParser
import Engine
import Foundation

extension DiskCommand {
    struct Bench: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Measure read or write throughput of an image through vmtui's own image code.")

        @Argument(help: "The image file.") var file: String
        @Flag(help: "Write instead of read (the image's contents are overwritten).") var write = false
        @Flag(help: "Random block-aligned offsets instead of sequential ones.") var random = false
        @Option(help: "Bytes per request, e.g. 4K or 1M.") var blockSize: String = "4K"
        @Option(help: "Number of requests.") var count: Int = 16384
        @Option(help: "Distance between consecutive requests, wrapping at the end of the disk, like qemu-img bench -S (a multiple of the block size).")
        var step: String?

        func run() throws {
            guard let block = DiskImage.parseSize(blockSize), block >= 512, block % 512 == 0, block <= 64 << 20 else {
                throw DiskCommand.usageError("block size '\(blockSize)' must be a multiple of 512 up to 64M")
            }
            guard count > 0 else { throw DiskCommand.usageError("count must be positive") }
            let image = try DiskCommand.attempt { () throws(StorageError) in try DiskImage.open(path: file, readOnly: !write) }
            var stride: UInt64 = 1
            if let step {
                guard !random, let bytes = DiskImage.parseSize(step), bytes > 0, bytes % block == 0 else {
                    throw DiskCommand.usageError("step '\(step)' must be a multiple of the block size (and not combined with --random)")
                }
                stride = bytes / block
            }
            let slots = image.size / block
            guard slots > 0 else { throw DiskCommand.usageError("\(file) is smaller than one \(block)-byte request") }
            let elapsed = try DiskCommand.attempt { () throws(StorageError) in try measure(image, block: block, slots: slots, stride: stride) }
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            let mib = Double(UInt64(count) * block) / 1_048_576
            let kind = "\(random ? "random" : step != nil ? "strided" : "sequential") \(write ? "write" : "read") \(DiskCommand.humanSize(block)) x \(count)"
            print("\(kind): " + String(format: "%.1f MiB/s, %.0f IOPS, %.3f s", mib / seconds, Double(count) / seconds, seconds))
        }

        private func measure(_ image: any DiskImageFile, block: UInt64, slots: UInt64, stride: UInt64) throws(StorageError) -> Duration {
            var buffer = [UInt8](repeating: 0xA5, count: Int(block))
            var state: UInt64 = 0x1234_5678
            var next: UInt64 = 0
            let clock = ContinuousClock()
            let start = clock.now
            for _ in 0..<count {
                let slot: UInt64
                if random {
                    state = state &* 6364136223846793005 &+ 1442695040888963407
                    slot = (state >> 17) % slots
                } else {
                    // As qemu-img bench: the offset advances by the step and wraps at the end.
                    slot = next
                    next = (next + stride % slots) % slots
                }
                try buffer.withUnsafeMutableBufferPointer { (bytes) throws(StorageError) in
                    if write {
                        try image.write(at: slot * block, from: UnsafeRawBufferPointer(bytes))
                    } else {
                        try image.read(at: slot * block, into: UnsafeMutableRawBufferPointer(bytes))
                    }
                }
            }
            if write { try image.flush() }
            return clock.now - start
        }
    }
}
