/// The interpreter's local APIC: it takes interrupts through it (the APIC wraps the PIC's
/// INTR as LINT0 ExtINT), reports it in CPUID, and sees its registers at the base in its
/// IA32_APIC_BASE MSR, per CPU: the slow memory paths compare physical pages with `apicPage`
/// before the memory map, so that a relocated base may even cover RAM for this CPU alone.
extension Interpreter {
    static let apicBaseMSR: UInt32 = 0x1B

    /// Makes `apic` this CPU's local APIC, CPU `apic.id` of `cpuCount` (CPUID leaves 1, 4, 0xB).
    public func attach(_ apic: LocalAPIC, cpuCount: Int) {
        localAPIC = apic
        model = CPUModel.interpreter.withLocalAPIC(id: apic.id, cpuCount: cpuCount)
        interruptController = apic
        yieldsOnPause = cpuCount > 1
        syncAPICPage()
    }

    /// After the base MSR changed: a TLB entry may point at RAM that the APIC page now covers.
    func syncAPICPage() {
        apicPage = localAPIC?.mmioBase ?? 1
        flushTLB()
    }
}
