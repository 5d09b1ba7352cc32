/// The CPU's side of the PIC: whether INTR is asserted, and the INTA cycle returning a vector.
public protocol InterruptAcknowledge: AnyObject {
    var interruptPending: Bool { get }
    func acknowledgeInterrupt() -> UInt8
}
