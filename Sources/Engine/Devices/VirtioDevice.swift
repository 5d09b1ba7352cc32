/// The device half of a virtio device (virtio-blk today): what it offers and what it does
/// when a queue is notified. `VirtioPCITransport` carries it over PCI.
protocol VirtioDevice: AnyObject {
    /// Virtio device type (2: block); the PCI device ID is 0x1040 plus it.
    var deviceType: UInt16 { get }
    /// Feature bits offered (VERSION_1 is added by the transport).
    var features: UInt64 { get }
    var queueSizes: [UInt16] { get }
    /// The device-specific configuration structure, little-endian.
    func configBytes() -> [UInt8]
    /// The driver notified `queue` (or a retry asks again): take and finish what is there.
    func process(queue index: Int, on transport: VirtioPCITransport)
    /// The driver reset the device.
    func reset()
}
