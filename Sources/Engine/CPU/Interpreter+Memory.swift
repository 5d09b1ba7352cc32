/// Guest memory: segmentation, paging through the software TLB, instruction fetch, the stack.
extension Interpreter {
    func flushTLB() {
        tlb.flush()
        state.pointee.fetchLen = 0
    }

    // MARK: Linear addresses

    // The fast paths compare the entry of `lin`'s page with the page of the access's last
    // byte: an entry only holds pages of its own index, so a match also says the access does
    // not cross into the next page (whose index differs). An entry with a valid tag always has
    // its pointer (set together by the slow paths).

    @inline(__always)
    func readLinear(_ lin: UInt32, _ width: Int) throws(Fault) -> UInt32 {
        let i = Int(lin >> 12) & (SoftTLB.entries - 1)
        if _fastPath(tlb.readTag[i] == (lin &+ UInt32(width - 1)) >> 12) {
            let host = tlb.readPtr[i].unsafelyUnwrapped
            let o = Int(lin & 0xFFF)
            switch width {
            case 1: return UInt32(host.load(fromByteOffset: o, as: UInt8.self))
            case 2: return UInt32(host.loadUnaligned(fromByteOffset: o, as: UInt16.self))
            default: return host.loadUnaligned(fromByteOffset: o, as: UInt32.self)
            }
        }
        return try readLinearSlow(lin, width)
    }

    @inline(__always)
    func writeLinear(_ lin: UInt32, _ width: Int, _ value: UInt32) throws(Fault) {
        let i = Int(lin >> 12) & (SoftTLB.entries - 1)
        if _fastPath(tlb.writeTag[i] == (lin &+ UInt32(width - 1)) >> 12) {
            let host = tlb.writePtr[i].unsafelyUnwrapped
            let o = Int(lin & 0xFFF)
            switch width {
            case 1: host.storeBytes(of: UInt8(truncatingIfNeeded: value), toByteOffset: o, as: UInt8.self)
            case 2: host.storeBytes(of: UInt16(truncatingIfNeeded: value), toByteOffset: o, as: UInt16.self)
            default: host.storeBytes(of: value, toByteOffset: o, as: UInt32.self)
            }
            return
        }
        try writeLinearSlow(lin, width, value)
    }

    @inline(never)
    func readLinearSlow(_ lin: UInt32, _ width: Int) throws(Fault) -> UInt32 {
        let checked = state.pointee.checkedAccess
        if checked { try checkDataAccess(lin, width, write: false) }
        if Int(lin & 0xFFF) > 4096 - width {
            var v: UInt32 = 0
            for k in 0..<width { v |= try readLinear(lin &+ UInt32(k), 1) << UInt32(8 * k) }
            return v
        }
        let phys = try translate(lin, write: false) & memory.a20Mask
        if phys & 0xFFFF_F000 == apicPage, let apic = localAPIC { return apic.read(offset: phys & 0xFFF, width: width) }
        if !checked, let host = memory.readPages[Int(phys >> 12)] {
            let i = Int(lin >> 12) & (SoftTLB.entries - 1)
            tlb.readTag[i] = lin >> 12
            tlb.readPtr[i] = host
            return try readLinear(lin, width)
        }
        return memory.read(phys, width: width)
    }

    @inline(never)
    func writeLinearSlow(_ lin: UInt32, _ width: Int, _ value: UInt32) throws(Fault) {
        let checked = state.pointee.checkedAccess
        if checked { try checkDataAccess(lin, width, write: true) }
        if Int(lin & 0xFFF) > 4096 - width {
            // Check both pages before writing anything, so a #PF leaves memory untouched.
            _ = try translate(lin, write: true)
            _ = try translate(lin &+ UInt32(width - 1), write: true)
            for k in 0..<width { try writeLinear(lin &+ UInt32(k), 1, value >> UInt32(8 * k)) }
            return
        }
        let phys = try translate(lin, write: true) & memory.a20Mask
        if phys & 0xFFFF_F000 == apicPage, let apic = localAPIC {
            apic.write(offset: phys & 0xFFF, width: width, value: value)
            state.pointee.irqCheck = true // looked at when the block ends (runBlock)
            return
        }
        let page = phys >> 12
        if !checked, let host = memory.writePages[Int(page)], !memory.isCodePage(page) {
            let i = Int(lin >> 12) & (SoftTLB.entries - 1)
            tlb.writeTag[i] = lin >> 12
            tlb.writePtr[i] = host
            try writeLinear(lin, width, value)
            return
        }
        memory.write(phys, width: width, value: value)
        state.pointee.irqCheck = true // MMIO may have changed an interrupt line
    }

    // MARK: Checked accesses (#AC, data breakpoints)

    /// While alignment checks or data breakpoints are on, the slow paths above check every access
    /// here and leave the TLB empty, so that the next access comes back. Operands wider than a
    /// dword, such as x87 doubles, are checked per dword.
    private func checkDataAccess(_ lin: UInt32, _ width: Int, write: Bool) throws(Fault) {
        if state.pointee.alignmentCheck && lin & UInt32(width - 1) != 0 {
            throw Fault(vector: 17, errorCode: 0, hasErrorCode: true)
        }
        if dataBreakpoints != 0 { matchDataBreakpoints(lin, width, write: write) }
    }

    // MARK: Paging

    /// Linear to physical (before A20), walking the page tables when CR0.PG is set.
    @inline(__always)
    func translate(_ lin: UInt32, write: Bool) throws(Fault) -> UInt32 {
        if !state.pointee.paging { return lin }
        return try walk(lin, write: write, user: state.pointee.cpl == 3)
    }

    @inline(never)
    func walk(_ lin: UInt32, write: Bool, user: Bool) throws(Fault) -> UInt32 {
        if state.pointee.cr4 & CR4.pae != 0 { return try walkPAE(lin, write: write, user: user) }
        let a20 = memory.a20Mask
        let pdeAddr = ((state.pointee.cr3 & 0xFFFF_F000) | ((lin >> 20) & 0xFFC)) & a20
        let pde = memory.read(pdeAddr, width: 4)
        if pde & 1 == 0 { throw pageFault(lin, write: write, user: user, present: false) }
        if pde & 0x80 != 0 && state.pointee.cr4 & CR4.pse != 0 {
            try checkAccess(pde, lin, write: write, user: user)
            tlb.largePages = true
            setAccessed(pdeAddr, pde, dirty: write)
            return (pde & 0xFFC0_0000) | (lin & 0x3F_FFFF)
        }
        let pteAddr = ((pde & 0xFFFF_F000) | ((lin >> 10) & 0xFFC)) & a20
        return try walkPageTable(lin, pdeAddr: pdeAddr, pde: pde, pteAddr: pteAddr, write: write, user: user)
    }

    /// The last level, the same in both formats: a 4 KiB page whose rights are the PDE's and the
    /// PTE's together.
    private func walkPageTable(_ lin: UInt32, pdeAddr: UInt32, pde: UInt32, pteAddr: UInt32,
                               write: Bool, user: Bool) throws(Fault) -> UInt32 {
        let pte = memory.read(pteAddr, width: 4)
        if pte & 1 == 0 { throw pageFault(lin, write: write, user: user, present: false) }
        try checkAccess(pde & pte, lin, write: write, user: user)
        setAccessed(pdeAddr, pde, dirty: false)
        setAccessed(pteAddr, pte, dirty: write)
        return (pte & 0xFFFF_F000) | (lin & 0xFFF)
    }

    /// PAE: CR3 names 4 PDPTEs; page directories and tables hold 512 64-bit entries; a PDE
    /// with PS maps 2 MiB. Only the low dword of each entry matters here: guest RAM and every
    /// device sit below 4 GiB (PLATFORM-NOTES), so address bits 32 and up are ignored, and NX
    /// (bit 63) is not implemented nor reported in CPUID.
    func walkPAE(_ lin: UInt32, write: Bool, user: Bool) throws(Fault) -> UInt32 {
        let a20 = memory.a20Mask
        let pdpteAddr = ((state.pointee.cr3 & 0xFFFF_FFE0) | ((lin >> 27) & 0x18)) & a20
        let pdpte = memory.read(pdpteAddr, width: 4)
        if pdpte & 1 == 0 { throw pageFault(lin, write: write, user: user, present: false) }
        let pdeAddr = ((pdpte & 0xFFFF_F000) | ((lin >> 18) & 0xFF8)) & a20
        let pde = memory.read(pdeAddr, width: 4)
        if pde & 1 == 0 { throw pageFault(lin, write: write, user: user, present: false) }
        if pde & 0x80 != 0 {
            try checkAccess(pde, lin, write: write, user: user)
            tlb.largePages = true
            setAccessed(pdeAddr, pde, dirty: write)
            return (pde & 0xFFE0_0000) | (lin & 0x1F_FFFF)
        }
        let pteAddr = ((pde & 0xFFFF_F000) | ((lin >> 9) & 0xFF8)) & a20
        return try walkPageTable(lin, pdeAddr: pdeAddr, pde: pde, pteAddr: pteAddr, write: write, user: user)
    }

    /// U/S and R/W of the combined entries; supervisor writes ignore R/W unless CR0.WP.
    @inline(__always)
    private func checkAccess(_ bits: UInt32, _ lin: UInt32, write: Bool, user: Bool) throws(Fault) {
        let denied = (user && bits & 4 == 0)
            || (write && bits & 2 == 0 && (user || state.pointee.cr0 & CR0.wp != 0))
        if denied { throw pageFault(lin, write: write, user: user, present: true) }
    }

    /// Sets A (and D for a write to the final entry) as the CPU does, only when they change.
    @inline(__always)
    private func setAccessed(_ addr: UInt32, _ entry: UInt32, dirty: Bool) {
        let want = entry | 0x20 | (dirty ? 0x40 : 0)
        if want != entry { memory.write(addr, width: 4, value: want) }
    }

    /// #PF: CR2 = the linear address; error code P (protection, not absence), W/R, U/S.
    private func pageFault(_ lin: UInt32, write: Bool, user: Bool, present: Bool) -> Fault {
        state.pointee.cr2 = lin
        let code = (present ? 1 : 0) | (write ? 2 : 0) | (user ? 4 : 0)
        return Fault(vector: 14, errorCode: UInt32(code), hasErrorCode: true)
    }

    /// INVLPG: one TLB entry, unless the page may belong to a 2 or 4 MiB mapping whose 4 KiB
    /// pieces sit all over the direct-mapped TLB; then every entry of the surrounding 4 MiB goes.
    func invalidatePage(_ lin: UInt32) {
        if tlb.largePages { tlb.flush(region: lin >> 22) } else { tlb.flush(page: lin >> 12) }
        state.pointee.fetchLen = 0
    }

    // MARK: Segmented access

    @inline(__always)
    func linear(_ sg: Int, _ off: UInt32, _ width: Int) throws(Fault) -> UInt32 {
        let c = seg[sg]
        if _slowPath(UInt64(off) &+ UInt64(width) > c.end) {
            try checkExpandDown(sg, off, width)
        }
        return c.base &+ off
    }

    /// Past the limit: fine only inside an expand-down data segment, else #GP(0) or #SS(0)
    /// (also for a null segment, whose attributes are all zero).
    @inline(never)
    func checkExpandDown(_ sg: Int, _ off: UInt32, _ width: Int) throws(Fault) {
        let c = seg[sg]
        if state.pointee.protected && !state.pointee.vm86 && !c.isSystem && !c.isCode && c.attr & 0x4 != 0 {
            let top: UInt64 = c.is32 ? 0xFFFF_FFFF : 0xFFFF
            if UInt64(off) > UInt64(c.limit) && UInt64(off) + UInt64(width - 1) <= top { return }
        }
        throw sg == SegReg.ss ? .ss(0) : .gp(0)
    }

    @inline(__always)
    func read(_ sg: Int, _ off: UInt32, _ width: Int) throws(Fault) -> UInt32 {
        try readLinear(try linear(sg, off, width), width)
    }

    @inline(__always)
    func write(_ sg: Int, _ off: UInt32, _ width: Int, _ value: UInt32) throws(Fault) {
        let c = seg[sg]
        if _slowPath(UInt64(off) &+ UInt64(width) > c.writeEnd) { try checkWrite(sg, off, width) }
        try writeLinear(c.base &+ off, width, value)
    }

    /// A write that is not plainly inside writable data: past the limit (`checkExpandDown`), or
    /// through a segment that is not writable data (code, read-only data, null), which is fine
    /// in real and virtual-8086 mode, else #GP(0) (#SS(0) for SS).
    @inline(never)
    func checkWrite(_ sg: Int, _ off: UInt32, _ width: Int) throws(Fault) {
        if UInt64(off) &+ UInt64(width) > seg[sg].end { try checkExpandDown(sg, off, width) }
        if seg[sg].attr & 0x1A == 0x12 || !state.pointee.protected || state.pointee.vm86 { return }
        throw sg == SegReg.ss ? .ss(0) : .gp(0)
    }

    // MARK: Instruction fetch

    // The fast paths below read `fetchPtr` unchecked: fetchSlow sets a non-zero `fetchLen` only
    // together with a non-nil `fetchPtr`; everything else only sets `fetchLen` to 0.

    @inline(__always)
    func fetch8() throws(Fault) -> UInt32 {
        let s = state
        let e = s.pointee.eip
        let d = e &- s.pointee.fetchLo
        if _fastPath(d < s.pointee.fetchLen) {
            s.pointee.eip = e &+ 1
            return UInt32(s.pointee.fetchPtr.unsafelyUnwrapped.load(fromByteOffset: Int(d), as: UInt8.self))
        }
        return try fetchSlow()
    }

    @inline(__always)
    func fetch16() throws(Fault) -> UInt32 {
        let s = state
        let e = s.pointee.eip
        let d = e &- s.pointee.fetchLo
        if _fastPath(UInt64(d) &+ 1 < UInt64(s.pointee.fetchLen)) {
            s.pointee.eip = e &+ 2
            return UInt32(s.pointee.fetchPtr.unsafelyUnwrapped.loadUnaligned(fromByteOffset: Int(d), as: UInt16.self))
        }
        let lo = try fetch8()
        return lo | (try fetch8() << 8)
    }

    @inline(__always)
    func fetch32() throws(Fault) -> UInt32 {
        let s = state
        let e = s.pointee.eip
        let d = e &- s.pointee.fetchLo
        if _fastPath(UInt64(d) &+ 3 < UInt64(s.pointee.fetchLen)) {
            s.pointee.eip = e &+ 4
            return s.pointee.fetchPtr.unsafelyUnwrapped.loadUnaligned(fromByteOffset: Int(d), as: UInt32.self)
        }
        let lo = try fetch16()
        return lo | (try fetch16() << 16)
    }

    /// Fetches an operand-size immediate.
    @inline(__always)
    func fetchImm(_ width: Int) throws(Fault) -> UInt32 {
        switch width {
        case 1: return try fetch8()
        case 2: return try fetch16()
        default: return try fetch32()
        }
    }

    /// Outside the fetch window: fetch one byte the long way and re-aim the window at the
    /// page holding it.
    @inline(never)
    func fetchSlow() throws(Fault) -> UInt32 {
        let s = state
        let e = s.pointee.eip
        let code32 = s.pointee.code32
        let cs = seg[SegReg.cs]
        if UInt64(e) >= cs.end { throw Fault.gp() } // past the CS limit
        let lin = cs.base &+ e
        let phys = try translate(lin, write: false) & memory.a20Mask
        s.pointee.eip = code32 ? e &+ 1 : (e &+ 1) & 0xFFFF
        guard let host = memory.readPages[Int(phys >> 12)] else {
            s.pointee.fetchLen = 0
            return memory.read(phys, width: 1)
        }
        // EIPs of this page: [e - offset, e - offset + 4096), starting at 0 when that wraps,
        // ending at the CS limit; 16-bit code also stops short of 0xFFFF so that IP wraps
        // through this slow path.
        let offset = lin & 0xFFF
        var lo = e &- offset
        var len: UInt32 = 4096
        var start = 0
        if lo > e { start = Int(0 &- lo); len -= 0 &- lo; lo = 0 }
        if !code32 { len = min(len, 0xFFFF &- lo) }
        len = UInt32(min(UInt64(len), cs.end - UInt64(lo)))
        s.pointee.fetchLo = lo
        s.pointee.fetchLen = len
        s.pointee.fetchPtr = host + start
        s.pointee.fetchKey = DecodeCache.key((phys & 0xFFFF_F000) &+ UInt32(start), code32: code32,
                                             cut: start + Int(len) < 4096)
        return UInt32(host.load(fromByteOffset: Int(offset), as: UInt8.self))
    }

    // MARK: Stack

    @inline(__always)
    func push(_ value: UInt32, _ width: Int) throws(Fault) {
        if state.pointee.stack32 {
            let sp = gpr[4] &- UInt32(width)
            try write(SegReg.ss, sp, width, value)
            gpr[4] = sp
        } else {
            let sp = (gpr[4] &- UInt32(width)) & 0xFFFF
            try write(SegReg.ss, sp, width, value)
            gpr[4] = (gpr[4] & 0xFFFF_0000) | sp
        }
    }

    @inline(__always)
    func pop(_ width: Int) throws(Fault) -> UInt32 {
        let v = try peek(0, width)
        adjustSP(width)
        return v
    }

    /// Reads the stack `depth` bytes above the top, without popping.
    @inline(__always)
    func peek(_ depth: Int, _ width: Int) throws(Fault) -> UInt32 {
        if state.pointee.stack32 {
            return try read(SegReg.ss, gpr[4] &+ UInt32(depth), width)
        }
        return try read(SegReg.ss, (gpr[4] &+ UInt32(depth)) & 0xFFFF, width)
    }

    @inline(__always)
    func adjustSP(_ delta: Int) {
        if state.pointee.stack32 {
            gpr[4] &+= UInt32(bitPattern: Int32(truncatingIfNeeded: delta))
        } else {
            gpr[4] = (gpr[4] & 0xFFFF_0000) | ((gpr[4] &+ UInt32(bitPattern: Int32(truncatingIfNeeded: delta))) & 0xFFFF)
        }
    }
}
