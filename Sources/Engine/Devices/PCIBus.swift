/// PCI bus 0 behind the i440FX: its functions, the one place BARs are mapped, INTx wiring
/// and MSI delivery.
///
/// * BARs: after any guest write to a function's command register, a BAR or the ROM BAR (and
///   at PCI reset) `decode` maps each declared BAR that is enabled (I/O or memory bit, ROM
///   enable bit) and inside the host bridge's windows, unmapping where it was before. I/O
///   BARs decode in 0x0D00-0xFFFF and memory BARs between the top of RAM and 0xFEC00000 (the
///   ranges SeaBIOS's ACPI tables give the PCI host), so a BAR being sized or parked never
///   covers RAM, the IOAPIC/APIC pages or the BIOS. A 64-bit BAR above 4 GiB is not decoded:
///   the memory map is 32-bit.
/// * INTx: a function with an interrupt pin in slot `s` drives PIRQ ((s - 1) + (pin - 1)) mod 4,
///   the swizzle of QEMU's piix_pci_slot_get_irq and SeaBIOS's piix_pci_slot_get_irq, as
///   interrupt-router GSI 16 + PIRQ; the PIIX3 steers it to the ISA IRQ in 0x60-0x63.
/// * MSI: messages go to `msiSink` (the APIC bus); without one they are counted and dropped.
public final class PCIBus {
    private let memory: MemoryMap
    /// Unowned: the port map holds the host bridge, which holds this bus; a strong reference
    /// back would keep the whole machine (and its open, locked disk images) alive.
    private unowned let ports: PortMap
    private let interrupts: InterruptRouter
    /// Functions by device<<3 | function.
    private var functions: [Int: PCIFunction] = [:]
    public var msiSink: MSISink?
    public private(set) var droppedMSIs = 0

    static let ioWindow: Range<UInt64> = 0x0D00..<0x1_0000
    static let memoryWindowEnd: UInt64 = 0xFEC0_0000

    public init(memory: MemoryMap, ports: PortMap, interrupts: InterruptRouter) {
        self.memory = memory
        self.ports = ports
        self.interrupts = interrupts
    }

    /// Places `function` at 00:device.function and wires its interrupt pin.
    public func attach(_ function: PCIFunction, device: Int, function number: Int = 0) {
        functions[device << 3 | number] = function
        let config = function.config
        config.bus = self
        if (1...4).contains(config.interruptPin) {
            config.intx = interrupts.line(InterruptRouter.pirqBase + PCIBus.pirq(slot: device, pin: config.interruptPin))
        }
        decode(config)
    }

    /// The PIRQ (0-3 for A-D) that `pin` (1-4 for INTA-INTD) of a device in `slot` drives.
    public static func pirq(slot: Int, pin: Int) -> Int { (slot - 1 + pin - 1) & 3 }

    public func function(devfn: Int) -> PCIFunction? { functions[devfn] }

    func deliver(_ message: MSIMessage) {
        if let msiSink { msiSink.deliverMSI(message) } else { droppedMSIs += 1 }
    }

    // MARK: BAR decoding

    /// Brings the mappings of `config`'s BARs in line with its registers.
    func decode(_ config: PCIConfigSpace) {
        for index in 0..<7 {
            guard let bar = index < 6 ? config.bars[index] : config.rom else { continue }
            let window = config.decoded[index] ?? PCIBARWindow(bar: bar)
            config.decoded[index] = window
            let wanted = address(of: bar, index: index, in: config)
            guard wanted != window.base else { continue }
            if let old = window.range {
                window.base = nil
                unmap(bar, old)
                remapOverlapping(old, io: bar.kind == .io)
            }
            window.base = wanted
            if let new = window.range { map(window, new) }
        }
    }

    /// Where `bar` decodes now, nil when off or outside the windows.
    private func address(of bar: PCIBAR, index: Int, in config: PCIConfigSpace) -> UInt64? {
        let base: UInt64
        let window: Range<UInt64>
        switch bar.kind {
        case .io:
            guard config.ioEnabled else { return nil }
            base = config.barAddress(index)
            window = PCIBus.ioWindow
        case .memory:
            guard config.memoryEnabled else { return nil }
            base = config.barAddress(index)
            window = UInt64(memory.ramSize)..<PCIBus.memoryWindowEnd
        case .rom:
            let raw = config.u32(0x30)
            guard config.memoryEnabled, raw & 1 != 0 else { return nil }
            base = UInt64(raw & 0xFFFF_F800)
            window = UInt64(memory.ramSize)..<PCIBus.memoryWindowEnd
        }
        guard base >= window.lowerBound, base + bar.size <= window.upperBound else { return nil }
        return base
    }

    private func map(_ window: PCIBARWindow, _ range: Range<UInt64>) {
        let bar = window.bar
        switch bar.kind {
        case .io:
            ports.register(window, ports: UInt16(range.lowerBound)...UInt16(range.upperBound - 1))
        case .memory:
            guard bar.mmio != nil else { return } // an unbacked aperture answers nothing
            memory.mapMMIO(from: UInt32(range.lowerBound), size: Int(bar.size), device: window)
        case .rom:
            guard let image = bar.image else { return }
            memory.setPages(from: UInt32(range.lowerBound), size: min(Int(bar.size), image.count),
                            readFrom: image.pointer, writeTo: nil)
        }
    }

    private func unmap(_ bar: PCIBAR, _ range: Range<UInt64>) {
        if bar.kind == .io {
            ports.unregister(ports: UInt16(range.lowerBound)...UInt16(range.upperBound - 1))
        } else {
            memory.unmap(from: UInt32(range.lowerBound), size: Int(bar.size))
        }
    }

    /// A BAR that moved may have sat over another one (the guest may overlap them while it
    /// reprograms); whatever else decodes in the freed range gets its pages back.
    private func remapOverlapping(_ freed: Range<UInt64>, io: Bool) {
        for function in functions.values {
            for case let window? in function.config.decoded where (window.bar.kind == .io) == io {
                guard let range = window.range, range.overlaps(freed) else { continue }
                map(window, range)
            }
        }
    }
}
