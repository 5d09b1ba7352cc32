extension Machine {
    /// The E1000 at 00:03.0 (INTA# on PIRQC, as in QEMU's pc) when the VM has a
    /// network, its ITR timer on the scheduler; nil for `none` (no card, as QEMU's -nic none).
    func attachNetwork() throws -> NetworkAttachment? {
        guard config.network.mode != .none else { return nil }
        let mac = (config.macAddress ?? .generate()).bytes
        let attachment = try NetworkAttachment(network: config.network, vmName: config.name, mac: mac, memory: memory,
                                               clock: clock, lock: lock, counters: ioCounters)
        hostBridge.attach(attachment.nic, device: 3)
        scheduler.add(attachment.nic)
        return attachment
    }

    /// Plugs the running machine's card into `network` (link down, swap, link up, same MAC);
    /// `done` gets the outcome for the status line. A VM started with no card has none to switch.
    public func switchNetwork(to network: VMConfig.Network, done: @escaping @Sendable (String, Bool) -> Void) {
        guard let attachment = self.network else {
            done("\(config.name) started with no network card (network=none): the change applies at its next start", true)
            return
        }
        var target = network
        target.portForwards = attachment.network.portForwards // the forwards the VM started with come back with NAT
        attachment.switchTo(target, done: done)
    }

    /// Replaces the running machine's port forwards (NAT listens on the new host ports at once;
    /// while bridged they are kept for the next switch to NAT).
    public func setPortForwards(_ forwards: [VMConfig.PortForward], done: @escaping @Sendable (String, Bool) -> Void) {
        guard let attachment = self.network else {
            done("\(config.name) started with no network card (network=none): the forwards apply at its next start", true)
            return
        }
        attachment.setPortForwards(forwards, done: done)
    }
}
