/// A device on an IDE channel: an ATA disk today, an ATAPI CD-ROM later. The channel owns
/// the task file and the data transfer; the drive interprets commands through it.
public protocol IDEDrive: AnyObject {
    /// Runs `command` (the value written to the command register) using the channel's task
    /// file; it ends by starting a transfer, completing, or aborting on the channel.
    func execute(_ command: UInt8, on channel: IDEChannel)
    /// A PIO write transfer (host to device) finished filling the buffer.
    func pioWriteFinished(on channel: IDEChannel)
    /// The PIO read buffer was drained; the drive may supply the next block.
    func pioReadFinished(on channel: IDEChannel)
    /// Whether the drive answers IDENTIFY PACKET DEVICE (ATAPI) rather than IDENTIFY DEVICE.
    var isPacketDevice: Bool { get }
    /// The drive's response to a soft reset: the signature in sector count / LBA registers.
    var signature: (count: UInt8, lbaLow: UInt8, lbaMid: UInt8, lbaHigh: UInt8) { get }
}
