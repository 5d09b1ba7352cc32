/// The text forms used by the CLI and the wizard: `bridge:br0`, `tcp:2222:22`, `cdrom,disk`.
extension VMConfig {
    public static func parseNetwork(_ text: String) throws -> Network {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        let mode = try Network.Mode.parse(parts.first ?? "", field: "network")
        if mode == .bridge {
            guard parts.count == 2, !parts[1].isEmpty else {
                throw VMConfigError.invalid(file: nil, field: "network", value: text, problem: "names no bridge",
                                            allowed: "bridge:IFACE, e.g. bridge:br0")
            }
            return Network(mode: .bridge, bridgeInterface: parts[1])
        }
        guard parts.count == 1 else {
            throw VMConfigError.invalid(file: nil, field: "network", value: text, problem: "is not understood",
                                        allowed: "nat, bridge:IFACE, none")
        }
        return Network(mode: mode)
    }

    /// `tcp:HOST:GUEST` or `udp:HOST:GUEST`; the protocol may be left out (tcp).
    public static func parsePortForward(_ text: String) throws -> PortForward {
        var parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        if parts.count == 2 { parts.insert("tcp", at: 0) }
        let problem = VMConfigError.invalid(file: nil, field: "forward", value: text, problem: "is not a port forward",
                                            allowed: "tcp:HOSTPORT:GUESTPORT or udp:HOSTPORT:GUESTPORT, ports 1…65535")
        guard parts.count == 3, let proto = PortForward.Proto(rawValue: parts[0].lowercased()),
              let host = Int(parts[1]), let guest = Int(parts[2]),
              (1...65535).contains(host), (1...65535).contains(guest) else { throw problem }
        return PortForward(proto: proto, hostPort: host, guestPort: guest)
    }

    /// The forwards field of the wizard and `set forwards=`: a comma list, or none (empty or
    /// "none"), each host port once per protocol, as validate() requires of the config.
    public static func parsePortForwards(_ text: String) throws -> [PortForward] {
        let items = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        if items.count == 1, items[0].lowercased() == "none" { return [] }
        let forwards = try items.map(parsePortForward)
        if let index = PortForward.firstRepeatedHostPort(in: forwards) {
            throw VMConfigError.invalid(file: nil, field: "forward", value: items[index], problem: "uses host port \(forwards[index].hostPort) again",
                                        allowed: "each host port once per protocol")
        }
        return forwards
    }

    public static func parseBootOrder(_ text: String) throws -> [BootDevice] {
        let devices = try text.split(separator: ",").map { try BootDevice.parse(String($0), field: "boot") }
        guard !devices.isEmpty, Set(devices).count == devices.count else {
            throw VMConfigError.invalid(file: nil, field: "boot", value: text, problem: "must list each device once",
                                        allowed: "a comma list of \(BootDevice.allowedList)")
        }
        return devices
    }

    /// Memory as `512`, `512M` or `1G`, in MiB.
    public static func parseMemoryMiB(_ text: String) throws -> Int {
        guard let bytes = ByteSize.parse(text), bytes % (1 << 20) == 0 else {
            throw VMConfigError.invalid(file: nil, field: "memory", value: text, problem: "is not a memory size",
                                        allowed: "MiB as a number (512) or with a unit (512M, 2G)")
        }
        return Int(bytes >> 20)
    }

    public static func parseCPUCount(_ text: String) throws -> Int {
        guard let count = Int(text), count > 0 else {
            throw VMConfigError.invalid(file: nil, field: "cpus", value: text, problem: "is not a CPU count", allowed: "a whole number from 1")
        }
        return count
    }

    /// The `network=` value that selects `network` (nat, bridge:IFACE, none).
    public static func networkSetting(_ network: Network) -> String {
        network.mode == .bridge ? "bridge:\(network.bridgeInterface ?? "")" : network.mode.rawValue
    }

    public var networkSummary: String {
        switch network.mode {
        case .nat:
            let forwards = network.portForwards.map { "\($0.proto.rawValue) \($0.hostPort)->\($0.guestPort)" }
            return (["NAT"] + forwards).joined(separator: "  ")
        case .bridge: return "Bridge \(network.bridgeInterface ?? "?")"
        case .none: return "None"
        }
    }
}
