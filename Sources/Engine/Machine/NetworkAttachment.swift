/// The guest's network card and what it is plugged into: the E1000 at 00:03.0 and a NAT
/// (libslirp) or Bridge (TAP) backend on the VM's own HostIOThread, which can be swapped while
/// the guest runs.
///
/// Threads: the backend is opened, closed and driven on the I/O thread (every libslirp call is
/// made there); frames for the guest reach the card from that thread under the machine lock
/// (`MachineLock.withLock`, which kicks the vCPU). The card, `backlog` and `network` are the
/// machine's state: touched only with the machine lock held.
public final class NetworkAttachment: @unchecked Sendable {
    public let nic: E1000
    private let io: HostIOThread
    private let lock: MachineLock
    private let vmName: String
    /// What the card is plugged into now (its forwards are kept while bridged).
    public private(set) var network: VMConfig.Network
    /// Only touched on the I/O thread.
    private var backend: NetBackend?
    /// Frames for the guest waiting for receive descriptors, as QEMU queues them while
    /// e1000_can_receive says no: a burst from the host is not lost to a full ring.
    private var backlog: [[UInt8]] = []
    /// At this many the backend is paused (a TAP stops reading; QEMU stops polling it the same
    /// way) until the backlog is delivered; a few batches, so the ring never waits for a read.
    private static let pauseLevel = 4 * TapBridge.batch
    /// What a backend that cannot pause (libslirp) may queue; more is dropped, and its TCP
    /// sends it again.
    private static let backlogLimit = 512
    /// Whether the backend was told to pause (machine lock).
    private var paused = false
    /// How long the cable stays out during a switch: the guest driver's watchdog (2 s in
    /// Linux's e1000) must see the link down to report a carrier change.
    private static let switchLinkDownNanoseconds: UInt64 = 2_500_000_000
    private var relink: HostTimer?

    /// The card for `network` (not `none`), its backend opened at once; `warnings` says why the
    /// link is down or a forward is missing, with the fix.
    init(network: VMConfig.Network, vmName: String, mac: [UInt8], memory: MemoryMap, clock: MachineClock,
         lock: MachineLock, counters: IOCounters) throws {
        nic = E1000(mac: mac, memory: memory, clock: clock)
        io = try HostIOThread(name: "vmtui-net")
        self.lock = lock
        self.vmName = vmName
        self.network = network
        nic.ioCounters = counters
        nic.onReceiveSpace = { [unowned self] in drainBacklog() }
    }

    /// Opens the configured backend (from the thread building the machine, before it runs).
    /// Returns the problems to show; a backend that cannot open leaves the link down.
    func start() -> [String] {
        let network = self.network
        return io.performAndWait { [self] in plug(into: network) }
    }

    /// With the machine lock held (a machine reset): the card to power-on state, nothing held back.
    func reset() {
        nic.reset()
        backlog.removeAll()
        resumeIfPaused()
    }

    /// Plugs the card into `network` while the guest runs: the link goes down, the old backend
    /// closes, the new one opens (same MAC), and the link comes up a little later so the guest
    /// sees the carrier change. `done` is called on the I/O thread with what happened and
    /// whether it is an error. Call with or without the machine lock: the work is queued.
    public func switchTo(_ network: VMConfig.Network, done: @escaping @Sendable (String, Bool) -> Void) {
        io.perform { [self] in
            relink?.cancel()
            lock.withLock {
                nic.setLink(up: false)
                nic.backend = nil
                backlog.removeAll()
                paused = false
            }
            backend?.close()
            backend = nil
            let problems = plug(into: network, linkUp: false)
            let summary = network.mode == .nat ? "NAT" : network.mode == .bridge ? "Bridge \(network.bridgeInterface ?? "")" : "no network"
            guard backend != nil || network.mode == .none else {
                done("network \(summary) failed: " + problems.joined(separator: "; "), true)
                return
            }
            let timer = io.makeTimer { [weak self] in
                guard let self else { return }
                lock.withLock { if nic.backend?.isLinkUp == true { nic.setLink(up: true) } }
            }
            timer.arm(after: NetworkAttachment.switchLinkDownNanoseconds)
            relink = timer
            let renew = network.mode == .none ? "" : "; the guest may need to renew its DHCP lease (busybox udhcpc does not on a carrier change)"
            done("network switched to \(summary)\(renew)" + problems.map { "; " + $0 }.joined(), !problems.isEmpty)
        }
    }

    /// Replaces the port forwards while the guest runs: NAT stops listening on the removed host
    /// ports and listens on the new ones (a taken port is reported and skipped); while bridged
    /// the list is only kept for the next switch to NAT. `done` is called on the I/O thread.
    public func setPortForwards(_ forwards: [VMConfig.PortForward], done: @escaping @Sendable (String, Bool) -> Void) {
        io.perform { [self] in
            let old = lock.withLock { network.portForwards }
            var problems: [String] = []
            if let nat = backend as? SlirpNAT {
                // One that is not there (its port was taken) is already as wanted.
                for forward in old where !forwards.contains(forward) { try? nat.removeForward(forward) }
                for forward in forwards where !old.contains(forward) {
                    do { try nat.addForward(forward) } catch { problems.append("\(error)") }
                }
            }
            lock.withLock { network.portForwards = forwards }
            let list = forwards.isEmpty ? "none" : forwards.map { "\($0.proto.rawValue) 127.0.0.1:\($0.hostPort)->\($0.guestPort)" }
                .joined(separator: ", ")
            let applied = backend is SlirpNAT ? "port forwards now \(list)" : "port forwards \(list) apply when the VM switches to NAT"
            done(([applied] + problems).joined(separator: "; "), !problems.isEmpty)
        }
    }

    /// Closes the backend and ends the I/O thread (the VM stopped). A TAP vanishes with it.
    public func close() {
        io.performAndWait { [self] in
            relink?.cancel()
            lock.withLock { nic.backend = nil } // no flow control calls into a closed backend
            backend?.close()
            backend = nil
        }
        io.stop()
    }

    // MARK: On the I/O thread

    /// Opens the backend for `network` and attaches it; the link follows (`linkUp` false: the
    /// caller raises it later). Returns the problems, each naming its fix.
    private func plug(into network: VMConfig.Network, linkUp: Bool = true) -> [String] {
        var problems: [String] = []
        var opened: NetBackend?
        switch network.mode {
        case .none: break
        case .nat:
            do {
                let nat = try SlirpNAT(io: io)
                for forward in network.portForwards {
                    do { try nat.addForward(forward) } catch { problems.append("\(error)") }
                }
                opened = nat
            } catch {
                problems.append("\(error)")
            }
        case .bridge:
            do {
                opened = try TapBridge.open(io: io, vmName: vmName, interface: network.bridgeInterface ?? "")
            } catch {
                problems.append("\(error); the card's link stays down until the VM switches network "
                                + "(N in vmtui's list, the console's Ctrl-] menu, or vmtui set \(vmName) network=nat)")
            }
        }
        opened?.receiver = { [weak self] frames in self?.deliver(frames) }
        // A TAP taken down or off its bridge: the guest sees the cable pulled, and put back.
        opened?.linkChanged = { [weak self] up in
            guard let self else { return }
            lock.withLock { if nic.backend != nil, relink?.isArmed != true { nic.setLink(up: up) } }
        }
        lock.withLock {
            self.network = network
            paused = false
            nic.backend = opened
            nic.setLink(up: opened?.isLinkUp == true && linkUp)
        }
        backend = opened
        return problems
    }

    /// Frames for the guest: into the ring while it has room, the rest held back (bounded);
    /// a backlog at `pauseLevel` pauses the backend until the driver takes it.
    private func deliver(_ frames: [[UInt8]]) {
        lock.withLock {
            for frame in frames {
                if backlog.isEmpty, nic.hasReceiveRoom(for: frame.count) {
                    nic.receive(frame)
                } else if nic.isReceiving, backlog.count < NetworkAttachment.backlogLimit {
                    backlog.append(frame)
                }
            }
            if !paused, backlog.count >= NetworkAttachment.pauseLevel {
                paused = true
                nic.backend?.pauseReceiving()
            }
        }
    }

    // MARK: With the machine lock held

    private func drainBacklog() {
        var taken = 0
        while taken < backlog.count, nic.hasReceiveRoom(for: backlog[taken].count) {
            nic.receive(backlog[taken])
            taken += 1
        }
        if taken > 0 { backlog.removeFirst(taken) }
        if backlog.isEmpty { resumeIfPaused() }
    }

    private func resumeIfPaused() {
        guard paused else { return }
        paused = false
        nic.backend?.resumeReceiving()
    }
}
