import CKVM
import Foundation

extension KVMVCPU {
    /// KVM has no reset ioctl: the machine stops every vCPU, then each puts its registers,
    /// FPU, MSRs, local APIC and MP state back (a failure is reported by the next `run`).
    public func reset(_ kind: VCPUResetKind) {
        do {
            switch kind {
            case .powerOn: try powerOn()
            case .initSignal:
                // INIT keeps the x87/SSE state and the MSRs (SDM vol. 3 §9.1).
                try writeRegisters(KVMVCPU.resetRegisters(signature: signature), apicBase: apicBase)
                try clearPendingEvents()
                try setMPState(index == 0 ? KVM_MP_STATE_RUNNABLE : KVM_MP_STATE_INIT_RECEIVED)
            }
        } catch {
            pendingError = "reset: \(error)"
        }
    }

    /// A startup IPI: real mode at `vector` << 12.
    public func startup(vector: UInt8) {
        var r = registers
        r.segments[1] = VCPUSegment(selector: UInt16(vector) << 8, base: UInt64(vector) << 12, limit: 0xFFFF, attributes: 0x9B)
        r.rip = 0
        registers = r
        do { try setMPState(KVM_MP_STATE_RUNNABLE) } catch { pendingError = "startup: \(error)" }
    }

    /// Power-on state: F000:FFF0 with CS base FFFF0000, FPU and MSRs at their reset values, the
    /// local APIC as created with the BSP's LINT0 as ExtINT (where the PIC's INTR arrives),
    /// application processors waiting for INIT/SIPI.
    func powerOn() throws {
        try writeRegisters(KVMVCPU.resetRegisters(signature: signature), apicBase: apicBase)
        var fpu = kvm_fpu()
        fpu.fcw = 0x037F
        fpu.mxcsr = 0x1F80
        try ioctl(ckvm_set_fpu(), &fpu, "KVM_SET_FPU")
        try setMSRs(KVMVCPU.resetMSRs)
        var lapic = powerOnLAPIC
        if index == 0 {
            withUnsafeMutableBytes(of: &lapic.regs) { $0.storeBytes(of: UInt32(0x700), toByteOffset: 0x350, as: UInt32.self) }
        }
        try ioctl(ckvm_set_lapic(), &lapic, "KVM_SET_LAPIC")
        try clearPendingEvents()
        try setMPState(index == 0 ? KVM_MP_STATE_RUNNABLE : KVM_MP_STATE_UNINITIALIZED)
    }

    /// Drops what KVM holds for the next entry: an injected ExtINT (the PIC's vector, taken by
    /// INTA before the reset; delivered after it, the new boot would get an interrupt its
    /// vectors do not expect), an exception, an NMI, the interrupt shadow; and the request
    /// for an interrupt window.
    private func clearPendingEvents() throws {
        var events = kvm_vcpu_events() // flags 0: exception, interrupt, NMI and shadow all cleared
        try ioctl(ckvm_set_vcpu_events(), &events, "KVM_SET_VCPU_EVENTS")
        kvmRun.pointee.request_interrupt_window = 0
    }

    /// IA32_APIC_BASE at reset: the default base, enabled, BSP flag on vCPU 0.
    var apicBase: UInt64 { 0xFEE0_0000 | 1 << 11 | (index == 0 ? 1 << 8 : 0) }

    static func resetRegisters(signature: UInt32) -> VCPURegisters {
        var r = VCPURegisters()
        r.gpr[2] = UInt64(signature) // EDX: family, model, stepping
        r.rip = 0xFFF0
        r.segments = (0..<6).map { _ in VCPUSegment(selector: 0, base: 0, limit: 0xFFFF, attributes: 0x93) }
        r.segments[1] = VCPUSegment(selector: 0xF000, base: 0xFFFF_0000, limit: 0xFFFF, attributes: 0x9B)
        r.ldtr = VCPUSegment(attributes: 0x82)
        r.tr = VCPUSegment(attributes: 0x8B)
        r.gdtLimit = 0xFFFF
        r.idtLimit = 0xFFFF
        return r
    }

    /// MSRs a reset must clear so nothing of the last boot survives: TSC, SYSENTER, the
    /// SYSCALL targets, KERNEL_GS_BASE, PAT, MISC_ENABLE (fast strings), and kvmclock's
    /// system-time MSRs (else KVM keeps writing the old clock page into guest RAM).
    static let resetMSRs: [(UInt32, UInt64)] = [
        (0x10, 0), (0x174, 0), (0x175, 0), (0x176, 0), (0x277, 0x0007_0406_0007_0406), (0x1A0, 1),
        (0xC000_0081, 0), (0xC000_0082, 0), (0xC000_0083, 0), (0xC000_0084, 0), (0xC000_0102, 0),
        (0x4B56_4D01, 0), (0x12, 0),
    ]

    private func setMSRs(_ values: [(UInt32, UInt64)]) throws {
        guard let msrs = ckvm_msrs_alloc(UInt32(values.count)) else { throw KVMError("out of memory for MSRs") }
        defer { free(msrs) }
        let entries = ckvm_msrs_entries(msrs)!
        for (i, (index, data)) in values.enumerated() {
            entries[i].index = index
            entries[i].data = data
        }
        let set = ckvm_ioctl(fd, ckvm_set_msrs(), msrs)
        guard set == values.count else {
            let which = set >= 0 && Int(set) < values.count ? " (MSR 0x\(String(values[Int(set)].0, radix: 16)) refused)" : ""
            throw KVMError("KVM_SET_MSRS set \(max(0, set)) of \(values.count)\(which)")
        }
    }

    private func setMPState(_ state: Int32) throws {
        var mp = kvm_mp_state(mp_state: UInt32(state))
        try ioctl(ckvm_set_mp_state(), &mp, "KVM_SET_MP_STATE")
    }

    func setCPUID(_ supported: [kvm_cpuid_entry2], cpuCount: Int) throws {
        let table = KVMCPUID.table(supported: supported, vcpuIndex: index, cpuCount: cpuCount)
        guard let cpuid = ckvm_cpuid2_alloc(UInt32(table.count)) else { throw KVMError("out of memory for CPUID") }
        defer { free(cpuid) }
        let entries = ckvm_cpuid2_entries(cpuid)!
        for (i, leaf) in table.enumerated() { entries[i] = leaf }
        guard ckvm_ioctl(fd, ckvm_set_cpuid2(), cpuid) == 0 else { throw KVMError.failed("KVM_SET_CPUID2") }
    }
}
