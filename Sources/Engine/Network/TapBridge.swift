#if canImport(Glibc)
import Glibc
#endif
import CLinuxHost
import Foundation
import Synchronization

/// Bridged networking through /dev/net/tun: a TAP device (IFF_TAP | IFF_NO_PI) whose frames
/// are the guest's. Two ways in:
/// - with CAP_NET_ADMIN, a non-persistent TAP named after the VM, enslaved to the host bridge
///   and brought up; it vanishes when its descriptor closes, even if vmtui crashes;
/// - without it, a persistent TAP the user owns, created and attached to the bridge by an
///   administrator (`ip tuntap add dev NAME mode tap user USER`), named in place of the bridge.
///
/// Frames from the TAP are read on the HostIOThread and handed to `receiver` there, in batches,
/// while the guest has room; `send` writes straight to the non-blocking descriptor.
public final class TapBridge: NetBackend, @unchecked Sendable {
    /// The TAP's interface name (at most 15 characters).
    public let name: String
    /// The bridge the TAP was enslaved to; nil for a pre-created TAP.
    public let bridge: String?
    public var receiver: (([[UInt8]]) -> Void)?
    public var linkChanged: ((Bool) -> Void)?
    /// Up, and still on its bridge when vmtui attached it there (an administrator may take the
    /// TAP down, or delete or leave the bridge, while the VM runs). Set on the I/O thread.
    public private(set) var isLinkUp = true
    /// How often the TAP's state is looked at (a carrier change the guest sees within a second).
    static let carrierInterval: UInt64 = 500_000_000
    private var carrierCheck: HostTimer?

    private let io: HostIOThread
    private var fd: Int32
    /// Frames handed to `receiver` per call.
    static let batch = 32
    /// Set and cleared with the machine lock held (pause/resumeReceiving), read by the I/O thread.
    private let paused = Atomic<Bool>(false)
    /// Only touched on the I/O thread; a frame is at most 64 KiB.
    private var readBuffer = [UInt8](repeating: 0, count: 65536)

    /// Opens `interface` for the VM: a bridge gets a new TAP of the VM's own; a TAP (one the
    /// administrator made for this user) is opened as it is.
    public static func open(io: HostIOThread, vmName: String, interface: String) throws -> TapBridge {
        if FileManager.default.fileExists(atPath: "/sys/class/net/\(interface)/tun_flags") {
            return try TapBridge(io: io, existingTAP: interface)
        }
        return try TapBridge(io: io, vmName: vmName, bridge: interface)
    }

    /// Creates a non-persistent TAP named for `vmName`, enslaves it to `bridge` and brings it up.
    public init(io: HostIOThread, vmName: String, bridge: String) throws {
        guard FileManager.default.fileExists(atPath: "/sys/class/net/\(bridge)") else { throw NetworkError.bridgeMissing(bridge) }
        guard FileManager.default.fileExists(atPath: "/sys/class/net/\(bridge)/bridge") else { throw NetworkError.notABridge(bridge) }
        let tap = TapBridge.tapName(forVM: vmName)
        self.io = io
        self.name = tap
        self.bridge = bridge
        fd = try TapBridge.openTun()
        do {
            let attached = lh_tap_attach(fd, tap)
            if attached == -EPERM || attached == -EACCES { throw NetworkError.notPermitted(tap: tap, bridge: bridge) }
            if attached == -EBUSY {
                throw NetworkError.tapFailed(tap: tap, reason: "is in use by another process (is this VM already running?)")
            }
            guard attached == 0 else { throw NetworkError.tapFailed(tap: tap, reason: String(cString: strerror(-attached))) }
            try TapBridge.configure(tap: tap, bridge: bridge)
        } catch {
            Glibc.close(fd)
            throw error
        }
        start()
    }

    /// Opens a persistent TAP the user was given; its bridge and state are the administrator's.
    public init(io: HostIOThread, existingTAP tap: String) throws {
        self.io = io
        self.name = tap
        self.bridge = nil
        guard FileManager.default.fileExists(atPath: "/sys/class/net/\(tap)") else { throw NetworkError.tapNotUsable(tap) }
        fd = try TapBridge.openTun()
        let attached = lh_tap_attach(fd, tap)
        guard attached == 0 else {
            Glibc.close(fd)
            if attached == -EPERM || attached == -EACCES { throw NetworkError.tapNotUsable(tap) }
            throw NetworkError.tapFailed(tap: tap, reason: String(cString: strerror(-attached)))
        }
        start()
    }

    /// "vm-" and up to 6 characters of the name, then 5 hex digits of a hash of the whole name,
    /// so VMs whose names share a beginning still get different TAPs (15 characters at most).
    public static func tapName(forVM vmName: String) -> String {
        let stem = vmName.lowercased().filter { $0.isASCII && ($0.isLetter || $0.isNumber) }.prefix(6)
        var hash: UInt32 = 0x811C_9DC5 // FNV-1a
        for byte in vmName.utf8 { hash = (hash ^ UInt32(byte)) &* 0x0100_0193 }
        let digits = String(hash & 0xF_FFFF, radix: 16)
        return "vm-\(stem)-" + String(repeating: "0", count: 5 - digits.count) + digits
    }

    static func openTun(path: String = "/dev/net/tun") throws -> Int32 {
        let fd = Glibc.open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC)
        guard fd < 0 else { return fd }
        let code = errno
        if code == ENOENT || code == ENODEV || code == ENXIO { throw NetworkError.tunMissing("does not exist") }
        if code == EACCES || code == EPERM { throw NetworkError.tunNotAccessible("permission denied") }
        throw NetworkError.tunMissing(String(cString: strerror(code)))
    }

    private static func configure(tap: String, bridge: String) throws {
        let sock = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard sock >= 0 else { throw NetworkError.tapFailed(tap: tap, reason: "no socket for interface ioctls") }
        defer { Glibc.close(sock) }
        let index = lh_ifindex(sock, tap)
        let added = index > 0 ? lh_bridge_add(sock, bridge, index) : -ENODEV
        if added == -EPERM || added == -EACCES { throw NetworkError.notPermitted(tap: tap, bridge: bridge) }
        guard added == 0 else {
            throw NetworkError.tapFailed(tap: tap, reason: "cannot join bridge \(bridge): \(String(cString: strerror(-added)))")
        }
        let up = lh_set_up(sock, tap, 1)
        guard up == 0 else { throw NetworkError.tapFailed(tap: tap, reason: "cannot bring it up: \(String(cString: strerror(-up)))") }
    }

    /// Reads the TAP whenever it is readable and the guest has room (see `pauseReceiving`), and
    /// watches its state.
    private func start() {
        let descriptor = fd
        io.register(descriptor, events: .readable) { [weak self] _ in self?.readFrames(from: descriptor) }
        carrierCheck = io.makeTimer { [weak self] in self?.checkCarrier() }
        checkCarrier()
    }

    /// On the I/O thread: the link follows the TAP's IFF_UP flag and, for a TAP vmtui put on a
    /// bridge, its master (sysfs, as `ip link` shows them).
    private func checkCarrier() {
        let flags = (try? String(contentsOfFile: "/sys/class/net/\(name)/flags", encoding: .utf8))
            .flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines).dropFirst(2), radix: 16) } ?? 0
        let master = bridge.map { (try? FileManager.default.destinationOfSymbolicLink(atPath: "/sys/class/net/\(name)/master"))?
            .hasSuffix("/\($0)") == true } ?? true
        let up = flags & 1 != 0 && master // IFF_UP
        if up != isLinkUp {
            isLinkUp = up
            linkChanged?(up)
        }
        carrierCheck?.arm(after: TapBridge.carrierInterval)
    }

    /// On the I/O thread: hands what the TAP has to `receiver`, `batch` frames at a time, until
    /// the kernel's queue is empty or the receiver pauses the reading.
    private func readFrames(from descriptor: Int32) {
        while !paused.load(ordering: .acquiring) {
            var frames: [[UInt8]] = []
            while frames.count < TapBridge.batch {
                let n = readBuffer.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
                guard n > 0 else { break }
                frames.append(Array(readBuffer[0..<n]))
            }
            if !frames.isEmpty { receiver?(frames) }
            if frames.count < TapBridge.batch { return } // the queue is empty
        }
    }

    /// Stops reading: frames wait in the kernel's queue for the TAP (which drops what does not
    /// fit, as a full switch port would), not in ours.
    public func pauseReceiving() {
        paused.store(true, ordering: .releasing)
        io.update(fd, events: [])
    }

    public func resumeReceiving() {
        paused.store(false, ordering: .releasing)
        io.update(fd, events: .readable)
    }

    public func send(_ frame: [UInt8]) {
        guard fd >= 0 else { return }
        _ = frame.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
    }

    /// Stops reading and closes the TAP (a non-persistent one disappears with it).
    public func close() {
        guard fd >= 0 else { return }
        carrierCheck?.cancel()
        io.unregister(fd)
        io.performAndWait {} // a read already dispatched has finished
        Glibc.close(fd)
        fd = -1
    }
}
