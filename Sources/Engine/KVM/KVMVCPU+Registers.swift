import CKVM

extension KVMVCPU {
    /// The registers through KVM_GET/SET_REGS and KVM_GET/SET_SREGS. A failed call reads as the
    /// power-on values and a failed write is reported by the next `run` (the protocol cannot throw).
    public var registers: VCPURegisters {
        get { (try? readRegisters()) ?? VCPURegisters() }
        set {
            do { try writeRegisters(newValue) } catch { pendingError = "\(error)" }
        }
    }

    func readRegisters() throws -> VCPURegisters {
        var regs = kvm_regs()
        var sregs = kvm_sregs()
        try ioctl(ckvm_get_regs(), &regs, "KVM_GET_REGS")
        try ioctl(ckvm_get_sregs(), &sregs, "KVM_GET_SREGS")
        var r = VCPURegisters()
        r.gpr = [regs.rax, regs.rcx, regs.rdx, regs.rbx, regs.rsp, regs.rbp, regs.rsi, regs.rdi,
                 regs.r8, regs.r9, regs.r10, regs.r11, regs.r12, regs.r13, regs.r14, regs.r15]
        r.rip = regs.rip
        r.rflags = regs.rflags
        r.segments = [sregs.es, sregs.cs, sregs.ss, sregs.ds, sregs.fs, sregs.gs].map(KVMVCPU.segment)
        r.ldtr = KVMVCPU.segment(sregs.ldt)
        r.tr = KVMVCPU.segment(sregs.tr)
        r.gdtBase = sregs.gdt.base
        r.gdtLimit = sregs.gdt.limit
        r.idtBase = sregs.idt.base
        r.idtLimit = sregs.idt.limit
        r.cr0 = sregs.cr0
        r.cr2 = sregs.cr2
        r.cr3 = sregs.cr3
        r.cr4 = sregs.cr4
        r.efer = sregs.efer
        return r
    }

    /// Writes `r`; the APIC base, CR8 and pending-interrupt bitmap stay as they are unless
    /// `apicBase` is given (a reset).
    func writeRegisters(_ r: VCPURegisters, apicBase: UInt64? = nil) throws {
        var regs = kvm_regs()
        let g = r.gpr
        (regs.rax, regs.rcx, regs.rdx, regs.rbx, regs.rsp, regs.rbp, regs.rsi, regs.rdi) = (g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7])
        (regs.r8, regs.r9, regs.r10, regs.r11, regs.r12, regs.r13, regs.r14, regs.r15) = (g[8], g[9], g[10], g[11], g[12], g[13], g[14], g[15])
        regs.rip = r.rip
        regs.rflags = r.rflags
        var sregs = kvm_sregs()
        try ioctl(ckvm_get_sregs(), &sregs, "KVM_GET_SREGS")
        let s = r.segments.map(KVMVCPU.kvmSegment)
        (sregs.es, sregs.cs, sregs.ss, sregs.ds, sregs.fs, sregs.gs) = (s[0], s[1], s[2], s[3], s[4], s[5])
        sregs.ldt = KVMVCPU.kvmSegment(r.ldtr)
        sregs.tr = KVMVCPU.kvmSegment(r.tr)
        sregs.gdt.base = r.gdtBase
        sregs.gdt.limit = r.gdtLimit
        sregs.idt.base = r.idtBase
        sregs.idt.limit = r.idtLimit
        sregs.cr0 = r.cr0
        sregs.cr2 = r.cr2
        sregs.cr3 = r.cr3
        sregs.cr4 = r.cr4
        sregs.efer = r.efer
        if let apicBase {
            sregs.apic_base = apicBase
            sregs.cr8 = 0
            sregs.interrupt_bitmap = (0, 0, 0, 0)
        }
        try ioctl(ckvm_set_sregs(), &sregs, "KVM_SET_SREGS")
        try ioctl(ckvm_set_regs(), &regs, "KVM_SET_REGS")
    }

    /// `struct kvm_segment` to the access-byte form (type, S, DPL, P; AVL, L, D/B, G in 12-15).
    static func segment(_ k: kvm_segment) -> VCPUSegment {
        let attributes = UInt16(k.type & 0xF) | UInt16(k.s & 1) << 4 | UInt16(k.dpl & 3) << 5 | UInt16(k.present & 1) << 7
            | UInt16(k.avl & 1) << 12 | UInt16(k.l & 1) << 13 | UInt16(k.db & 1) << 14 | UInt16(k.g & 1) << 15
        return VCPUSegment(selector: k.selector, base: k.base, limit: k.limit, attributes: attributes, unusable: k.unusable != 0)
    }

    static func kvmSegment(_ s: VCPUSegment) -> kvm_segment {
        var k = kvm_segment()
        k.selector = s.selector
        k.base = s.base
        k.limit = s.limit
        k.type = UInt8(s.attributes & 0xF)
        k.s = UInt8(s.attributes >> 4 & 1)
        k.dpl = UInt8(s.attributes >> 5 & 3)
        k.present = UInt8(s.attributes >> 7 & 1)
        k.avl = UInt8(s.attributes >> 12 & 1)
        k.l = UInt8(s.attributes >> 13 & 1)
        k.db = UInt8(s.attributes >> 14 & 1)
        k.g = UInt8(s.attributes >> 15 & 1)
        k.unusable = s.unusable ? 1 : 0
        return k
    }
}
