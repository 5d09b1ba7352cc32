#if canImport(Glibc)
import Glibc
#endif
import CSlirp

/// NAT through libslirp (QEMU's -nic user): the guest's network is 10.0.2.0/24 with the host
/// at 10.0.2.2 (its loopback), DNS at 10.0.2.3 (forwarding the host's resolver) and DHCP
/// leases from 10.0.2.15; port forwards listen on the host (127.0.0.1 unless told otherwise).
///
/// libslirp is not thread-safe and calls back synchronously, so every slirp call happens on
/// the HostIOThread: `send` queues the guest's frame there, the thread asks slirp for its
/// descriptors and timeout each iteration (HostIOPoller), and slirp's timers are HostTimers.
/// `receiver` is therefore called on the I/O thread, once after each slirp call with the
/// frames slirp sent during it (one machine-lock round for a burst, not one per frame).
public final class SlirpNAT: NetBackend, HostIOPoller, @unchecked Sendable {
    public static let guestAddress = "10.0.2.15"
    public static let hostAddress = "10.0.2.2"
    public static let dnsAddress = "10.0.2.3"

    public var receiver: (([[UInt8]]) -> Void)?
    public var linkChanged: ((Bool) -> Void)?
    /// Told (on the I/O thread) when slirp reports a guest's malformed packet.
    public var guestError: ((String) -> Void)?
    public var isLinkUp: Bool { true }

    private let io: HostIOThread
    /// Only touched on the I/O thread; nil once closed.
    private var slirp: OpaquePointer?
    /// slirp keeps the pointer to its callbacks, so they live as long as this object.
    private let callbacks: UnsafeMutablePointer<SlirpCb>
    /// This iteration's poll set while slirp fills or reads it.
    private var pollSet = HostPollSet()
    /// Timers slirp created and has not freed, to cancel on close.
    private var timers: [ObjectIdentifier: HostTimer] = [:]
    /// Frames slirp sent during the current call, handed to `receiver` when it returns.
    private var outgoing: [[UInt8]] = []

    /// Starts NAT on `io` with `forwards` (host side on `hostBindAddress`).
    public init(io: HostIOThread, forwards: [VMConfig.PortForward] = [],
                hostBindAddress: String = "127.0.0.1") throws {
        self.io = io
        callbacks = .allocate(capacity: 1)
        callbacks.initialize(to: SlirpNAT.makeCallbacks())
        let opaque = Unmanaged.passUnretained(self).toOpaque()
        nonisolated(unsafe) let table = callbacks
        let created: OpaquePointer? = io.performAndWait {
            var config = SlirpConfig()
            config.version = 4
            config.in_enabled = true
            config.vnetwork = in_addr(s_addr: inet_addr("10.0.2.0"))
            config.vnetmask = in_addr(s_addr: inet_addr("255.255.255.0"))
            config.vhost = in_addr(s_addr: inet_addr(SlirpNAT.hostAddress))
            config.vdhcp_start = in_addr(s_addr: inet_addr(SlirpNAT.guestAddress))
            config.vnameserver = in_addr(s_addr: inet_addr(SlirpNAT.dnsAddress))
            config.if_mtu = 1500
            config.if_mru = 1500
            return slirp_new(&config, table, opaque)
        }
        guard let created else {
            callbacks.deallocate()
            throw NetworkError.slirpFailed("slirp_new failed to set up the 10.0.2.0/24 network")
        }
        slirp = created
        io.addPoller(self)
        do {
            for forward in forwards { try addForward(forward, hostAddress: hostBindAddress) }
        } catch {
            close()
            throw error
        }
    }

    deinit { callbacks.deallocate() }

    // MARK: NetBackend

    public func send(_ frame: [UInt8]) {
        io.perform { [self] in
            guard let slirp else { return }
            frame.withUnsafeBufferPointer { slirp_input(slirp, $0.baseAddress, Int32($0.count)) }
            flush()
        }
    }

    /// Removes the forwards and frees slirp; frames queued after this are dropped.
    public func close() {
        io.removePoller(self)
        io.performAndWait { [self] in
            guard let s = slirp else { return }
            slirp_cleanup(s)
            slirp = nil
            for timer in timers.values { timer.cancel() }
            timers.removeAll()
        }
    }

    // MARK: Port forwards

    /// Listens on `hostAddress`:`hostPort` and forwards connections (TCP) or datagrams (UDP) to
    /// the guest's lease address. Works while the guest runs.
    public func addForward(_ forward: VMConfig.PortForward, hostAddress: String = "127.0.0.1") throws {
        let address = try SlirpNAT.parseAddress(hostAddress)
        let (result, code): (Int32, Int32) = io.performAndWait { [self] in
            guard let slirp else { return (-1, EBADF) }
            errno = 0
            let r = slirp_add_hostfwd(slirp, forward.proto == .udp ? 1 : 0, address, Int32(forward.hostPort),
                                      in_addr(s_addr: inet_addr(SlirpNAT.guestAddress)), Int32(forward.guestPort))
            return (r, errno)
        }
        guard result == 0 else {
            let reason = code == EADDRINUSE || code == 0 ? "the port is in use on the host" : String(cString: strerror(code))
            throw NetworkError.hostPortTaken(proto: forward.proto.rawValue, address: hostAddress, port: forward.hostPort, reason: reason)
        }
    }

    public func removeForward(_ forward: VMConfig.PortForward, hostAddress: String = "127.0.0.1") throws {
        let address = try SlirpNAT.parseAddress(hostAddress)
        let result: Int32 = io.performAndWait { [self] in
            guard let slirp else { return -1 }
            return slirp_remove_hostfwd(slirp, forward.proto == .udp ? 1 : 0, address, Int32(forward.hostPort))
        }
        guard result == 0 else {
            throw NetworkError.forwardNotFound(proto: forward.proto.rawValue, address: hostAddress, port: forward.hostPort)
        }
    }

    private static func parseAddress(_ text: String) throws -> in_addr {
        var address = in_addr()
        guard inet_pton(AF_INET, text, &address) == 1 else {
            throw NetworkError.slirpFailed("\(text) is not an IPv4 address to listen on")
        }
        return address
    }

    // MARK: HostIOPoller (on the I/O thread)

    public func prepare(_ set: inout HostPollSet, timeoutNanoseconds: inout UInt64?) {
        guard let slirp else { return }
        var milliseconds = UInt32(clamping: (timeoutNanoseconds ?? UInt64(UInt32.max) * 1_000_000) / 1_000_000)
        pollSet = set
        slirp_pollfds_fill(slirp, &milliseconds, { fd, events, opaque in
            SlirpNAT.from(opaque).addPoll(fd, events)
        }, Unmanaged.passUnretained(self).toOpaque())
        set = pollSet
        if milliseconds != UInt32.max { timeoutNanoseconds = min(timeoutNanoseconds ?? .max, UInt64(milliseconds) * 1_000_000) }
    }

    public func dispatch(_ set: HostPollSet, error: Bool) {
        guard let slirp else { return }
        pollSet = set
        slirp_pollfds_poll(slirp, error ? 1 : 0, { index, opaque in
            SlirpNAT.from(opaque).returnedEvents(index)
        }, Unmanaged.passUnretained(self).toOpaque())
        flush()
    }

    /// Hands the frames slirp sent to the guest side, in order.
    private func flush() {
        guard !outgoing.isEmpty else { return }
        let frames = outgoing
        outgoing.removeAll(keepingCapacity: true)
        receiver?(frames)
    }

    private func addPoll(_ fd: Int32, _ events: Int32) -> Int32 {
        var mask: Int32 = 0
        if events & Int32(SLIRP_POLL_IN) != 0 { mask |= Int32(POLLIN) }
        if events & Int32(SLIRP_POLL_OUT) != 0 { mask |= Int32(POLLOUT) }
        if events & Int32(SLIRP_POLL_PRI) != 0 { mask |= Int32(POLLPRI) }
        return Int32(pollSet.add(fd, events: Int16(mask)))
    }

    private func returnedEvents(_ index: Int32) -> Int32 {
        let r = Int32(pollSet.returnedEvents(at: Int(index)))
        var events: Int32 = 0
        if r & Int32(POLLIN) != 0 { events |= Int32(SLIRP_POLL_IN) }
        if r & Int32(POLLOUT) != 0 { events |= Int32(SLIRP_POLL_OUT) }
        if r & Int32(POLLPRI) != 0 { events |= Int32(SLIRP_POLL_PRI) }
        if r & Int32(POLLERR | POLLNVAL) != 0 { events |= Int32(SLIRP_POLL_ERR) }
        if r & Int32(POLLHUP) != 0 { events |= Int32(SLIRP_POLL_HUP) }
        return events
    }

    // MARK: Callbacks from slirp (on the I/O thread)

    private static func from(_ opaque: UnsafeMutableRawPointer?) -> SlirpNAT {
        Unmanaged<SlirpNAT>.fromOpaque(opaque!).takeUnretainedValue()
    }

    private func makeTimer(_ id: SlirpTimerId, _ callbackOpaque: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer {
        nonisolated(unsafe) let argument = callbackOpaque
        let timer = io.makeTimer { [weak self] in
            guard let self, let slirp = self.slirp else { return }
            slirp_handle_timer(slirp, id, argument)
            self.flush()
        }
        timers[ObjectIdentifier(timer)] = timer
        return Unmanaged.passUnretained(timer).toOpaque()
    }

    private func freeTimer(_ pointer: UnsafeMutableRawPointer?) {
        guard let pointer else { return }
        let timer = Unmanaged<HostTimer>.fromOpaque(pointer).takeUnretainedValue()
        timer.cancel()
        timers.removeValue(forKey: ObjectIdentifier(timer))
    }

    private static func makeCallbacks() -> SlirpCb {
        var cb = SlirpCb()
        cb.send_packet = { buffer, length, opaque in
            let nat = SlirpNAT.from(opaque)
            guard let buffer else { return -1 }
            nat.outgoing.append(Array(UnsafeRawBufferPointer(start: buffer, count: length)))
            return length
        }
        cb.guest_error = { message, opaque in
            SlirpNAT.from(opaque).guestError?(message.map { String(cString: $0) } ?? "")
        }
        cb.clock_get_ns = { _ in Int64(HostClock.monotonicNow()) }
        cb.timer_new_opaque = { id, callbackOpaque, opaque in SlirpNAT.from(opaque).makeTimer(id, callbackOpaque) }
        cb.timer_free = { timer, opaque in SlirpNAT.from(opaque).freeTimer(timer) }
        cb.timer_mod = { timer, expireMilliseconds, _ in
            guard let timer else { return }
            Unmanaged<HostTimer>.fromOpaque(timer).takeUnretainedValue().arm(at: UInt64(max(0, expireMilliseconds)) * 1_000_000)
        }
        // Descriptors are handed over afresh each iteration (slirp_pollfds_fill), and slirp is
        // only called on the I/O thread, whose next iteration sees any new work: nothing to do.
        cb.register_poll_fd = { _, _ in }
        cb.unregister_poll_fd = { _, _ in }
        cb.notify = { _ in }
        return cb
    }
}
