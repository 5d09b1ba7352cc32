extension Machine {
    /// Emulate: a local APIC per interpreter vCPU (APIC ID = vCPU index), the IOAPIC on the
    /// PIIX3's IRQ outputs at 0xFEC00000, and the APIC bus as the PCI bus's MSI sink.
    /// Virtualize: KVM's in-kernel local APICs (split irqchip) behind the same IOAPIC.
    func wireAPICs() throws {
        if let kvm = vcpus.first as? KVMVCPU { return try wireKVMInterrupts(kvm.vm) }
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
        wireIOAPIC(msiSink: apicBus)
    }

    /// Virtualize (QEMU's kernel-irqchip=split): the IOAPIC's entries and the PCI devices' MSIs
    /// go to KVM as MSIs, the entries also as GSI routes so KVM reports EOIs of level-triggered
    /// vectors (KVM_EXIT_IOAPIC_EOI); INIT and SIPI stay in the kernel's APICs; a thread per vCPU.
    private func wireKVMInterrupts(_ vm: KVMVirtualMachine) throws {
        ioapic.sink = vm
        ioapic.onRoutesChange = { [unowned self, unowned vm] in
            do { try vm.setRoutes(ioapic.routes) } catch { if stopReason == nil { stopReason = .hostError("\(error)") } }
        }
        try vm.setRoutes(ioapic.routes)
        vm.onIOAPICEOI = { [unowned self] vector in ioapic.endOfInterrupt(vector: vector) }
        wireIOAPIC(msiSink: vm)
        let timers = VCPUThreads.Timers(
            deadline: { [unowned self] in
                scheduler.sliceDeadline = scheduler.nextDeadline() ?? .max
                return scheduler.sliceDeadline
            },
            fire: { [unowned self] in
                scheduler.sliceDeadline = 0
                scheduler.fireDue()
            })
        vcpuThreads = VCPUThreads(lock: lock, vcpus: vcpus, timers: timers)
    }

    /// The IOAPIC on the PIIX3's IRQ outputs at 0xFEC00000; `msiSink` takes the PCI devices' MSIs.
    private func wireIOAPIC(msiSink: MSISink) {
        isaBridge.ioapic = ioapic
        memory.mapMMIO(from: IOAPIC.base, size: MemoryMap.pageSize, device: ioapic)
        hostBridge.bus.msiSink = msiSink
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
