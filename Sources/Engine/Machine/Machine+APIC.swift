extension Machine {
    /// Emulate: a local APIC per interpreter vCPU (APIC ID = vCPU index), the IOAPIC on the
    /// PIIX3's IRQ outputs at 0xFEC00000, and the APIC bus as the PCI bus's MSI sink. KVM's
    /// vCPUs keep the kernel's APICs (the KVM backend wires those), so nothing here applies.
    func wireAPICs() {
        let cpus = vcpus.compactMap { $0 as? Interpreter }
        guard !cpus.isEmpty, cpus.count == vcpus.count else { return }
        for cpu in cpus {
            let apic = LocalAPIC(id: UInt8(cpu.index), bootstrap: cpu.index == 0, clock: clock, bus: apicBus, pic: pic)
            apic.onInterruptChange = { [unowned self, unowned cpu] in
                cpu.interruptRequestChanged()
                lock.signalWake()
            }
            apic.onNMI = { [unowned self, unowned cpu] in
                cpu.raiseNMI()
                lock.signalWake()
            }
            cpu.attach(apic, cpuCount: cpus.count)
            scheduler.add(apic)
        }
        isaBridge.ioapic = ioapic
        memory.mapMMIO(from: IOAPIC.base, size: MemoryMap.pageSize, device: ioapic)
        hostBridge.bus.msiSink = apicBus
        fwCfg.setItem(0x8002, FwCfg.le32(1)) // IRQ0_OVERRIDE: SeaBIOS's MP and MADT tables say IRQ0 is on pin 2
    }

    /// INIT and startup IPIs the vCPU's local APIC received since its last turn.
    func applyStartupSignals(_ vcpu: VCPU) {
        guard vcpu.index < apicBus.localAPICs.count else { return }
        let signals = apicBus.localAPICs[vcpu.index].takeStartupSignals()
        if signals.initSignal { vcpu.reset(.initSignal) }
        if let vector = signals.startupVector { vcpu.startup(vector: vector) }
    }
}
