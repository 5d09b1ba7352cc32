@testable import Engine

/// A bare PCI function for bus tests: its config space, BARs answered by `TestBARHandler`s.
final class PCITestFunction: PCIFunction {
    let config: PCIConfigSpace

    init(interruptPin: UInt8 = 0) {
        config = PCIConfigSpace(vendor: 0x1234, device: 0x5678, revision: 1, classCode: 0xFF_00_00,
                                interruptPin: interruptPin)
    }
}

/// Answers a BAR with `tag` plus the offset it was handed, and logs writes, so a test sees
/// which BAR an access reached and at which offset.
final class TestBARHandler: PortDevice, MMIODevice {
    let tag: UInt32
    var writes: [(offset: UInt32, value: UInt32)] = []

    init(tag: UInt32) { self.tag = tag }

    func portRead(_ port: UInt16, width: Int) -> UInt32 { tag | UInt32(port) }
    func portWrite(_ port: UInt16, width: Int, value: UInt32) { writes.append((UInt32(port), value)) }
    func mmioRead(_ address: UInt32, width: Int) -> UInt32 { tag | address }
    func mmioWrite(_ address: UInt32, width: Int, value: UInt32) { writes.append((address, value)) }
}

/// Keeps every MSI a device sends.
final class MSIRecorder: MSISink {
    var messages: [MSIMessage] = []
    func deliverMSI(_ message: MSIMessage) { messages.append(message) }
}
