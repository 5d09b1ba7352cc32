#if canImport(Glibc)
import Glibc
#endif

/// The host refused something the I/O thread needs (descriptors exhausted, no eventfd).
public struct HostIOError: Error, CustomStringConvertible {
    public let description: String

    /// "WHAT: strerror(errno)", read at the point of failure.
    init(_ what: String, errno code: Int32 = errno) {
        description = "\(what): \(String(cString: strerror(code)))"
    }
}
