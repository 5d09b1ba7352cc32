import Foundation

/// Frames a network backend hands to the guest side (slirp's replies, what a TAP reads),
/// collected on the I/O thread for a test to wait on.
final class FrameSink: @unchecked Sendable {
    private let lock = NSLock()
    private var frames: [[UInt8]] = []

    func append(_ frame: [UInt8]) { lock.withLock { frames.append(frame) } }
    func append(_ batch: [[UInt8]]) { lock.withLock { frames += batch } }

    /// The first frame matching `test`, waiting up to `seconds`.
    func first(within seconds: Double = 5, where test: ([UInt8]) -> Bool) -> [UInt8]? {
        let end = Date().addingTimeInterval(seconds)
        while Date() < end {
            if let hit = lock.withLock({ frames.first(where: test) }) { return hit }
            usleep(5000)
        }
        return nil
    }
}
