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
    /// Receives frames for the guest. Set once before the backend starts.
    var receiver: ((_ frame: [UInt8]) -> Void)? { get set }
    /// Whether frames can flow (a TAP whose bridge went away is down).
    var isLinkUp: Bool { get }
    /// Told when `isLinkUp` changes, so the NIC can raise a link-status-change interrupt.
    var linkChanged: ((_ up: Bool) -> Void)? { get set }
    /// Stops the backend and releases its host resources (sockets, the TAP, forwards).
    func close()
}
