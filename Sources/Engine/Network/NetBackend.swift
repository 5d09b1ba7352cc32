/// Where a NIC's frames go and come from: NAT through libslirp, a TAP on a host bridge, or a
/// test's recorder. Frames are whole Ethernet frames without the FCS.
///
/// Threads: `send` is called by the NIC with the machine lock held (from a vCPU's MMIO write);
/// a backend must only queue the frame and return. `receiver` and `linkChanged` are called on
/// the backend's own thread (the VM's HostIOThread); whoever wires the NIC in takes the machine
/// lock inside them before touching the device.
public protocol NetBackend: AnyObject {
    /// Queues one frame the guest transmitted.
    func send(_ frame: [UInt8])
    /// Receives frames for the guest, in order, several at once when they came together (one
    /// machine-lock round for the lot). Set once before the backend starts.
    var receiver: ((_ frames: [[UInt8]]) -> Void)? { get set }
    /// Flow control, called with the machine lock held: the guest's receive ring and the frames
    /// held back for it are full, so stop reading until `resumeReceiving` (a TAP leaves them
    /// in the kernel's queue, as QEMU does, instead of reading them only to drop them).
    func pauseReceiving()
    func resumeReceiving()
    /// Whether frames can flow (a TAP whose bridge went away is down).
    var isLinkUp: Bool { get }
    /// Told when `isLinkUp` changes, so the NIC can raise a link-status-change interrupt.
    var linkChanged: ((_ up: Bool) -> Void)? { get set }
    /// Stops the backend and releases its host resources (sockets, the TAP, forwards).
    func close()
}

extension NetBackend {
    /// A backend that cannot hold frames back (libslirp sends when its TCP says so) keeps
    /// delivering; the receiver bounds what it keeps.
    public func pauseReceiving() {}
    public func resumeReceiving() {}
}
