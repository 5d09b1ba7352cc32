/// The APIC bus of an Emulate machine: carries IPIs between the local APICs, the IOAPIC's
/// interrupts to them, and PCI MSIs (it is `PCIBus.msiSink`); broadcasts level-triggered EOIs
/// back to the IOAPIC.
///
/// Destinations (SDM vol. 3 §10.6.2): physical (an APIC ID, 0xFF for all) or logical (the
/// APICs whose LDR matches in their DFR's flat or cluster model); lowest-priority delivery
/// picks the matching APIC with the lowest arbitration priority, ties going to the lowest
/// APIC ID (real parts rotate; a fixed choice keeps runs reproducible). An APIC globally
/// disabled in its MSR takes no messages.
public final class APICBus: MSISink {
    public enum Shorthand: UInt8 {
        case none = 0, selfOnly = 1, allIncludingSelf = 2, allExcludingSelf = 3
    }

    public private(set) var localAPICs: [LocalAPIC] = []
    /// The IOAPIC that hears EOIs of level-triggered vectors (the machine owns it).
    public weak var ioapic: IOAPIC?
    /// MSI writes outside 0xFEExxxxx, which no APIC decodes.
    public private(set) var droppedMSIs = 0

    public init() {}

    func attach(_ apic: LocalAPIC) { localAPICs.append(apic) }

    /// The APICs a destination names.
    func targets(destination: UInt8, logical: Bool) -> [LocalAPIC] {
        localAPICs.filter { apic in
            guard apic.hardwareEnabled else { return false }
            if logical { return apic.matchesLogical(destination) }
            return destination == 0xFF || apic.id == destination
        }
    }

    /// Delivers a message to its destination (`send` adds an IPI's shorthand).
    public func deliver(destination: UInt8, logical: Bool, mode: APICDeliveryMode, vector: UInt8, levelTriggered: Bool) {
        dispatch(targets(destination: destination, logical: logical), mode: mode, vector: vector, levelTriggered: levelTriggered)
    }

    /// An IPI from `source`'s ICR.
    func send(from source: LocalAPIC, shorthand: Shorthand, destination: UInt8, logical: Bool,
              mode: APICDeliveryMode, vector: UInt8, levelTriggered: Bool) {
        let chosen: [LocalAPIC]
        switch shorthand {
        case .none: chosen = targets(destination: destination, logical: logical)
        case .selfOnly: chosen = [source]
        case .allIncludingSelf: chosen = localAPICs.filter { $0.hardwareEnabled }
        case .allExcludingSelf: chosen = localAPICs.filter { $0 !== source && $0.hardwareEnabled }
        }
        dispatch(chosen, mode: mode, vector: vector, levelTriggered: levelTriggered)
    }

    private func dispatch(_ chosen: [LocalAPIC], mode: APICDeliveryMode, vector: UInt8, levelTriggered: Bool) {
        if mode == .lowestPriority {
            let winner = chosen.min { ($0.arbitrationPriority & 0xF0, $0.id) < ($1.arbitrationPriority & 0xF0, $1.id) }
            winner?.accept(mode, vector: vector, levelTriggered: levelTriggered)
            return
        }
        for apic in chosen { apic.accept(mode, vector: vector, levelTriggered: levelTriggered) }
    }

    /// An MSI (PCI 3.0 §6.8.3, SDM §10.11): address 0xFEE, destination ID in bits 12-19,
    /// destination mode in bit 2; data: vector, delivery mode in bits 8-10, trigger in bit 15.
    public func deliverMSI(_ message: MSIMessage) {
        guard message.address >> 20 == 0xFEE, let mode = APICDeliveryMode(rawValue: UInt8((message.data >> 8) & 7)) else {
            droppedMSIs += 1
            return
        }
        deliver(destination: UInt8((message.address >> 12) & 0xFF), logical: message.address & 4 != 0, mode: mode,
                vector: UInt8(message.data & 0xFF), levelTriggered: message.data & 0x8000 != 0)
    }

    /// A local APIC's EOI for a level-triggered vector.
    func endOfInterrupt(vector: UInt8) {
        ioapic?.endOfInterrupt(vector: vector)
    }
}
