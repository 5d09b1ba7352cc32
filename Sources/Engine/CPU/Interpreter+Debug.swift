/// Debug exceptions (#DB): single-step traps (EFLAGS.TF), instruction breakpoints (DR0-DR3
/// enabled in DR7 with R/W = 00) and data breakpoints (R/W = 01 writes, 11 reads and writes;
/// LEN 1, 2, 4 or 8 bytes). Boundaries are checked on the run loop's `irqCheck` slow path, which
/// stays on while TF is set or a breakpoint is enabled, and data accesses through the checked
/// slow path while a data breakpoint is enabled, so a guest that uses none pays nothing. I/O
/// breakpoints (R/W = 10, which needs CR4.DE) never fire.
extension Interpreter {
    enum DR6 {
        static let singleStep: UInt32 = 1 << 14
        static let taskSwitch: UInt32 = 1 << 15
        static let reserved: UInt32 = 0xFFFF_0FF0
    }

    /// Whether instruction boundaries need watching for debug events.
    var watchingBoundaries: Bool {
        state.pointee.flags & (Flag.TF | Flag.RF) != 0 || executionBreakpoints != 0 || singleStepArmed
            || dataBreakpoints != 0 || dataBreakpointHits != 0
    }

    /// MOV from DR0-DR7; DR4 and DR5 alias DR6 and DR7 (CR4.DE is not supported).
    func readDebugRegister(_ n: Int) -> UInt32 {
        switch n {
        case 4, 6: return debugRegisters[6] | DR6.reserved
        case 5, 7: return debugRegisters[7] | 0x400
        default: return debugRegisters[n]
        }
    }

    func writeDebugRegister(_ n: Int, _ value: UInt32) {
        let index = n == 4 || n == 5 ? n + 2 : n
        debugRegisters[index] = value
        if index == 7 {
            executionBreakpoints = 0
            dataBreakpoints = 0
            for i in 0..<4 where (value >> UInt32(2 * i)) & 3 != 0 {
                switch (value >> UInt32(16 + 4 * i)) & 3 {
                case 0: executionBreakpoints |= 1 << UInt8(i)
                case 1, 3: dataBreakpoints |= 1 << UInt8(i)
                default: break
                }
            }
            state.pointee.irqCheck = true
            updateModes() // data breakpoints route accesses through the checked slow path
        }
    }

    /// At an instruction boundary: the single-step trap of the instruction just finished, or an
    /// instruction breakpoint on the one about to start (unless RF suppresses it, once).
    /// Arms the next single-step trap when TF is set now.
    func debugEventAtBoundary() -> Fault? {
        let s = state
        if singleStepArmed || dataBreakpointHits != 0 {
            if singleStepArmed { debugRegisters[6] |= DR6.singleStep }
            if dataBreakpointHits != 0 { reportBreakpoints(dataBreakpointHits) }
            singleStepArmed = false
            dataBreakpointHits = 0
            return Fault(vector: 1, kind: .trap)
        }
        if s.pointee.flags & Flag.RF != 0 {
            s.pointee.flags &= ~Flag.RF // RF covers this one instruction
        } else if executionBreakpoints != 0 {
            let here = seg[SegReg.cs].base &+ s.pointee.eip
            var hits: UInt8 = 0
            for i in 0..<4 where executionBreakpoints & (1 << UInt8(i)) != 0 && debugRegisters[i] == here { hits |= 1 << UInt8(i) }
            if hits != 0 {
                reportBreakpoints(hits)
                return Fault(vector: 1, kind: .trap) // a fault before the instruction: EIP stays on it
            }
        }
        singleStepArmed = s.pointee.flags & Flag.TF != 0
        return nil
    }

    /// DR6.B0-B3: the breakpoints that fired this time.
    private func reportBreakpoints(_ hits: UInt8) {
        debugRegisters[6] = (debugRegisters[6] & ~0xF) | UInt32(hits)
    }

    /// A data access to [lin, lin + width): records the data breakpoints it touches, for a #DB
    /// after the instruction.
    func matchDataBreakpoints(_ lin: UInt32, _ width: Int, write: Bool) {
        let dr7 = debugRegisters[7]
        for i in 0..<4 where dataBreakpoints & (1 << UInt8(i)) != 0 {
            let control = dr7 >> UInt32(16 + 4 * i)
            if !write && control & 3 == 1 { continue } // a write-only breakpoint
            let lenField = UInt64((control >> 2) & 3)
            let length: UInt64 = lenField == 2 ? 8 : lenField + 1 // LEN 00, 01, 11, 10: 1, 2, 4, 8
            let start = UInt64(debugRegisters[i]) & ~(length - 1)
            if UInt64(lin) < start + length && start < UInt64(lin) + UInt64(width) {
                dataBreakpointHits |= 1 << UInt8(i)
                state.pointee.irqCheck = true
            }
        }
    }
}
