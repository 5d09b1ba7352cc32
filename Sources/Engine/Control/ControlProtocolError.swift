/// Why a control connection ended: the peer's message says what to do about it.
public enum ControlProtocolError: Error, Equatable, CustomStringConvertible {
    /// A frame that does not decode (garbage, a truncated field, an unknown type).
    case malformed(String)
    /// The other side speaks another protocol version.
    case version(theirs: UInt16)
    /// The VM refused the connection and said why.
    case refused(String)
    /// The socket closed or failed.
    case closed(String)

    public var description: String {
        switch self {
        case .malformed(let what): return "not the vmtui control protocol: \(what)"
        case .version(let theirs):
            return "control protocol version \(theirs) is not spoken here (this vmtui speaks version "
                + "\(ControlMessage.version)): use the same vmtui binary for the VM and its clients, or restart the VM"
        case .refused(let why): return why
        case .closed(let why): return why
        }
    }
}
