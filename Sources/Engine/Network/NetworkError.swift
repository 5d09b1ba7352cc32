/// Why a network backend cannot start or change: each says what is wrong and what to do. The
/// VM keeps running without that backend (NAT stays on offer).
public enum NetworkError: Error, Equatable, CustomStringConvertible {
    /// A port forward's host port is in use (or not allowed) on the host.
    case hostPortTaken(proto: String, address: String, port: Int, reason: String)
    case forwardNotFound(proto: String, address: String, port: Int)
    case slirpFailed(String)
    /// /dev/net/tun does not exist or cannot be opened.
    case tunMissing(String)
    /// /dev/net/tun exists but this user may not open it.
    case tunNotAccessible(String)
    /// Creating or configuring the TAP needs CAP_NET_ADMIN.
    case notPermitted(tap: String, bridge: String)
    case bridgeMissing(String)
    case notABridge(String)
    case tapFailed(tap: String, reason: String)
    /// A pre-created TAP that does not exist or belongs to someone else.
    case tapNotUsable(String)

    public var description: String {
        switch self {
        case let .hostPortTaken(proto, address, port, reason):
            return "port forward \(proto) \(address):\(port): \(reason); choose another host port "
                + "(vmtui set NAME forwards=...) or stop what listens there"
        case let .forwardNotFound(proto, address, port):
            return "no port forward \(proto) \(address):\(port) to remove"
        case let .slirpFailed(what):
            return "NAT (libslirp): \(what)"
        case let .tunMissing(reason):
            return "/dev/net/tun: \(reason); load the TUN/TAP driver (modprobe tun) or use NAT"
        case let .tunNotAccessible(reason):
            return "/dev/net/tun: \(reason); it is normally mode 0666 (crw-rw-rw-): ask the administrator, or use NAT"
        case let .notPermitted(tap, bridge):
            return "creating TAP \(tap) on bridge \(bridge) needs CAP_NET_ADMIN, which vmtui does not have; "
                + "have an administrator create a TAP you own and attach it to the bridge "
                + "(ip tuntap add dev \(tap) mode tap user $USER; ip link set \(tap) master \(bridge) up), "
                + "or use NAT"
        case let .bridgeMissing(name):
            return "host bridge \(name) does not exist; create it (ip link add \(name) type bridge; "
                + "ip link set \(name) up) or choose another with vmtui set NAME network=bridge:IFACE"
        case let .notABridge(name):
            return "\(name) is not a bridge; choose a bridge (ip -br link show type bridge lists them)"
        case let .tapNotUsable(tap):
            return "TAP \(tap) does not exist or is not yours; have an administrator create it for you "
                + "(ip tuntap add dev \(tap) mode tap user $USER; ip link set \(tap) master BRIDGE up), or use NAT"
        case let .tapFailed(tap, reason):
            return "TAP \(tap): \(reason)"
        }
    }
}
