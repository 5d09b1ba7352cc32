/// The I/O APIC (82093AA, version 0x11, 24 pins) at 0xFEC00000: IOREGSEL at +0x00, IOWIN at
/// +0x10; register 0 the ID, 1 the version, 2 the arbitration ID, 0x10 + 2n the redirection
/// entry of pin n (vector, delivery mode, destination mode, remote IRR, trigger, mask,
/// destination in bits 56-63).
///
/// Its inputs are the PIIX3's: ISA IRQ n on pin n, with the PCI PIRQs the PIIX3 steers onto
/// them (QEMU's i440FX wires no pins 16-23), except IRQ0 (the PIT), which reaches pin 2, as
/// QEMU's ioapic_set_irq and the interrupt source override fw_cfg's IRQ0_OVERRIDE asks SeaBIOS
/// to put in its MP and MADT tables. Edge-triggered pins send on a rising edge while unmasked;
/// level-triggered pins send while asserted, unmasked and with remote IRR clear, set remote
/// IRR, and send again after the local APIC's EOI if still asserted. Polarity is stored but
/// not applied: every source here is modelled active-high, which is also what QEMU does (the
/// MP table describes PCI lines as active-low).
///
/// An entry is sent as the MSI it amounts to (as QEMU's ioapic_entry_parse): to the APIC bus in
/// Emulate, to KVM_SIGNAL_MSI in Virtualize, where `routes` also become KVM's GSI routes so the
/// in-kernel local APICs report EOIs of level-triggered vectors back here.
public final class IOAPIC: MMIODevice, InterruptController {
    public static let base: UInt32 = 0xFEC0_0000
    public static let pinCount = 24
    static let masked: UInt64 = 1 << 16
    static let remoteIRR: UInt64 = 1 << 14
    static let levelTriggered: UInt64 = 1 << 15

    /// Where entries are sent: the APIC bus (Emulate) or KVM (Virtualize).
    public var sink: MSISink
    /// Called after any change of the unmasked entries' messages (KVM mirrors them as routes).
    public var onRoutesChange: () -> Void = {}
    private var select: UInt8 = 0
    private var id: UInt32 = 0
    private var redirection = [UInt64](repeating: IOAPIC.masked, count: IOAPIC.pinCount)
    private var levels = [Bool](repeating: false, count: IOAPIC.pinCount)

    public init(bus: APICBus) {
        sink = bus
        bus.ioapic = self
    }

    public func reset() {
        select = 0
        id = 0
        redirection = [UInt64](repeating: IOAPIC.masked, count: IOAPIC.pinCount)
        onRoutesChange()
    }

    /// The MSI an entry sends: destination and its mode in the address; vector, delivery mode
    /// and trigger mode in the data.
    static func message(_ entry: UInt64) -> MSIMessage {
        MSIMessage(address: 0xFEE0_0000 | (entry >> 56) << 12 | (entry & 0x800 != 0 ? 4 : 0),
                   data: UInt32(entry & 0x7FF) | (entry & IOAPIC.levelTriggered != 0 ? 0x8000 : 0))
    }

    /// The unmasked pins and the MSI each sends: KVM's GSI routes (GSI = pin).
    public var routes: [(pin: Int, message: MSIMessage)] {
        redirection.indices.filter { redirection[$0] & IOAPIC.masked == 0 }.map { ($0, IOAPIC.message(redirection[$0])) }
    }

    /// The redirection entry of `pin`, for tests.
    public func entry(_ pin: Int) -> UInt64 { redirection[pin] }

    // MARK: Inputs

    /// ISA IRQ `irq` from the PIIX3: pin `irq`, except IRQ0 on pin 2.
    public func setIRQ(_ irq: Int, level: Bool) {
        setPin(irq == 0 ? 2 : irq, level: level)
    }

    public func setPin(_ pin: Int, level: Bool) {
        guard levels.indices.contains(pin), levels[pin] != level else { return }
        levels[pin] = level
        if level || redirection[pin] & IOAPIC.levelTriggered != 0 { service(pin, edge: level) }
    }

    /// Sends pin's interrupt if its entry allows: an edge only on `edge`, a level while high.
    private func service(_ pin: Int, edge: Bool) {
        let entry = redirection[pin]
        guard entry & IOAPIC.masked == 0, levels[pin] else { return }
        let level = entry & IOAPIC.levelTriggered != 0
        if level {
            guard entry & IOAPIC.remoteIRR == 0 else { return }
            redirection[pin] |= IOAPIC.remoteIRR
        } else if !edge {
            return
        }
        sink.deliverMSI(IOAPIC.message(entry))
    }

    /// A local APIC's EOI of `vector`: remote IRR clears on the level pins using it, and a
    /// line still asserted is sent again.
    public func endOfInterrupt(vector: UInt8) {
        for pin in 0..<IOAPIC.pinCount where redirection[pin] & 0xFF == UInt64(vector) && redirection[pin] & IOAPIC.remoteIRR != 0 {
            redirection[pin] &= ~IOAPIC.remoteIRR
            service(pin, edge: false)
        }
    }

    /// The bits of an entry its route depends on: all but delivery status and remote IRR.
    private static func routeBits(_ entry: UInt64) -> UInt64 { entry & ~0x5000 }

    // MARK: Registers

    public func mmioRead(_ address: UInt32, width: Int) -> UInt32 {
        switch address & 0xFF {
        case 0x00: return UInt32(select)
        case 0x10: return readRegister(select)
        default: return 0
        }
    }

    public func mmioWrite(_ address: UInt32, width: Int, value: UInt32) {
        switch address & 0xFF {
        case 0x00: select = UInt8(value & 0xFF)
        case 0x10: writeRegister(select, value)
        default: break
        }
    }

    private func readRegister(_ index: UInt8) -> UInt32 {
        switch index {
        case 0x00: return id
        case 0x01: return UInt32(IOAPIC.pinCount - 1) << 16 | 0x11
        case 0x02: return id
        case 0x10..<UInt8(0x10 + 2 * IOAPIC.pinCount):
            let entry = redirection[Int(index - 0x10) >> 1]
            return UInt32(truncatingIfNeeded: index & 1 == 0 ? entry : entry >> 32)
        default: return 0xFFFF_FFFF
        }
    }

    private func writeRegister(_ index: UInt8, _ value: UInt32) {
        switch index {
        case 0x00: id = value & 0x0F00_0000
        case 0x10..<UInt8(0x10 + 2 * IOAPIC.pinCount):
            let pin = Int(index - 0x10) >> 1
            let old = redirection[pin]
            if index & 1 == 0 {
                // Delivery status (12) and remote IRR (14) are read-only.
                let readOnly: UInt64 = 0x5000
                redirection[pin] = old & (0xFFFF_FFFF_0000_0000 | readOnly) | UInt64(value) & ~readOnly
                if redirection[pin] & IOAPIC.levelTriggered == 0 { redirection[pin] &= ~IOAPIC.remoteIRR }
            } else {
                redirection[pin] = old & 0xFFFF_FFFF | UInt64(value & 0xFF00_0000) << 32
            }
            if IOAPIC.routeBits(old) != IOAPIC.routeBits(redirection[pin]) { onRoutesChange() }
            // Unmasking a level line that is still asserted sends it now.
            if redirection[pin] & IOAPIC.levelTriggered != 0 { service(pin, edge: false) }
        default: break
        }
    }
}
