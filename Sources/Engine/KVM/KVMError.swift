import Foundation

/// A KVM call that failed: which call, and what the kernel said.
public struct KVMError: Error, CustomStringConvertible, Equatable {
    public let description: String

    public init(_ description: String) { self.description = description }

    /// `call` failed with the current errno.
    static func failed(_ call: String) -> KVMError {
        KVMError("\(call) failed: \(String(cString: strerror(errno)))")
    }

    /// Detection refused this host; the explanation says why and what to do.
    static func unavailable(_ availability: KVMAvailability) -> KVMError {
        KVMError("Virtualize: \(availability.explanation)")
    }
}
