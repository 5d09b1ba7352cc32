#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// x87 exceptions: flags in the status word, ES/B when one is unmasked, and the report at the
/// next waiting instruction (#MF with CR0.NE = 1, FERR# with CR0.NE = 0).
///
/// IE, ZE, OE, UE and PE of computed results come from the host's own x87, which runs every
/// Float80 operation: its flags are cleared before and read after the computation. DE, stack
/// faults and the instruction-specific invalid cases (compares, integer stores) are decided here.
extension Interpreter {
    /// glibc's x86 FE_INVALID, FE_DIVBYZERO, FE_OVERFLOW, FE_UNDERFLOW and FE_INEXACT are the x87
    /// status bits IE, ZE, OE, UE, PE (fenv does not report DE).
    static let hostExceptions: Int32 = 0x3D

    /// Before a host computation: clears the host flags the guest does not already hold masked
    /// (the status word is sticky, so those need no clearing), and applies the guest's rounding
    /// control (glibc's rounding constants are the x87 RC field). The operands come back through
    /// memory those calls could have changed, so the computation cannot be hoisted above them.
    /// Nothing may throw between this and `hostFlags()`.
    @inline(__always)
    func armHostFlags(_ a: Float80, _ b: Float80 = 0) -> (Float80, Float80) {
        let f = fpu
        f.pointee.hostOperands = (a, b)
        let stale = fetestexcept(Interpreter.hostExceptions) & ~Int32(f.pointee.status & f.pointee.control & X87State.exceptionBits)
        if stale != 0 { feclearexcept(stale) }
        if f.pointee.control & 0xC00 != 0 { fesetround(Int32(f.pointee.control & 0xC00)) }
        return f.pointee.hostOperands
    }

    /// The exceptions raised since `armHostFlags()` (plus masked ones the guest already holds);
    /// the host goes back to round-to-nearest. Results must be parked in `hostResults` or
    /// `hostBits` first, so the computation cannot sink below the flag read.
    @inline(__always)
    func hostFlags() -> UInt16 {
        if fpu.pointee.control & 0xC00 != 0 { fesetround(0) }
        return UInt16(fetestexcept(Interpreter.hostExceptions))
    }

    /// Records exception flags, with ES and B when one of them is unmasked. Returns whether an
    /// unmasked flag among `blocking` stops the instruction before it writes its result.
    @discardableResult @inline(__always)
    func signalFPU(_ flags: UInt16, blocking: UInt16 = X87State.exceptionBits) -> Bool {
        // Flags the guest already holds masked change nothing (the usual PE of FP code).
        let f = fpu.pointee
        if _fastPath(flags & ~(f.status & f.control) == 0) { return false }
        return recordFPUExceptions(flags, blocking)
    }

    @inline(never)
    private func recordFPUExceptions(_ flags: UInt16, _ blocking: UInt16) -> Bool {
        let f = fpu
        f.pointee.status |= flags
        let unmasked = flags & ~f.pointee.control & X87State.exceptionBits
        if unmasked != 0 { f.pointee.status |= X87State.es | X87State.busy }
        return unmasked & blocking != 0
    }

    /// The host's flags after a computation of `r` (and `extra`), with the results.
    @inline(__always)
    func collectHostFlags(_ r: Float80, _ extra: Float80 = 0) -> (Float80, Float80, UInt16) {
        let f = fpu
        f.pointee.hostResults = (r, extra)
        let flags = hostFlags()
        return (f.pointee.hostResults.0, f.pointee.hostResults.1, flags)
    }

    /// Records a computation's flags; false when an unmasked IE or ZE forbids writing the
    /// result. C1 (round-up) is reported as 0.
    @inline(__always)
    func commitFlags(_ flags: UInt16) -> Bool {
        fpu.pointee.status &= ~X87State.c1
        return !signalFPU(flags, blocking: X87State.ie | X87State.ze)
    }

    /// Stack overflow (C1 = 1) or underflow (C1 = 0): IE and SF. Returns whether IE is unmasked.
    func stackFault(overflow: Bool) -> Bool {
        let f = fpu
        f.pointee.status = (f.pointee.status & ~X87State.c1) | (overflow ? X87State.c1 : 0)
        return signalFPU(X87State.ie | X87State.sf)
    }

    /// DE for denormal register operands (memory formats are checked as they load), plus
    /// `flags` from loading; true when an unmasked one stops the instruction.
    @inline(__always)
    func operandExceptions(_ a: Float80, _ b: Float80, _ flags: UInt16 = 0) -> Bool {
        if _fastPath(flags == 0 && !a.isSubnormal && !b.isSubnormal) { return false }
        let de = a.isSubnormal || b.isSubnormal ? X87State.de : 0
        return signalFPU(flags | de, blocking: X87State.ie | X87State.de)
    }

    /// ES and B follow the flags and masks (after FLDCW, FLDENV, FRSTOR, FXRSTOR, FNCLEX);
    /// FERR# drops with ES.
    func refreshErrorSummary() {
        let f = fpu
        if f.pointee.status & ~f.pointee.control & X87State.exceptionBits != 0 {
            f.pointee.status |= X87State.es | X87State.busy
        } else {
            f.pointee.status &= ~(X87State.es | X87State.busy)
            releaseFERR()
        }
    }

    func releaseFERR() {
        guard ferrAsserted else { return }
        ferrAsserted = false
        coprocessorError?.setFERR(false)
    }

    /// Before a waiting x87 instruction or WAIT: a pending unmasked exception is reported first.
    /// False when the CPU froze instead (CR0.NE = 0: FERR# asserted, the instruction waits for
    /// an interrupt and runs again after it).
    @inline(__always)
    func fpuReady() throws(Fault) -> Bool {
        if _fastPath(fpu.pointee.status & X87State.es == 0) { return true }
        return try reportPendingFPUError()
    }

    @inline(never)
    private func reportPendingFPUError() throws(Fault) -> Bool {
        let s = state
        if s.pointee.cr0 & CR0.ne != 0 { throw Fault(vector: 16) }
        if coprocessorError?.ignoreNumericError == true { return true }
        if !ferrAsserted {
            ferrAsserted = true
            coprocessorError?.setFERR(true)
        }
        s.pointee.eip = s.pointee.startEIP
        s.pointee.halted = true
        stopRequested.store(true, ordering: .relaxed)
        return false
    }
}
