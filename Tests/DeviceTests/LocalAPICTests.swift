import Testing
@testable import Engine

/// A stand-in 8259 pair for LINT0: INTR while `pending`, a fixed vector on INTA.
final class FakePIC: InterruptAcknowledge {
    var pending = false
    var interruptPending: Bool { pending }
    func acknowledgeInterrupt() -> UInt8 {
        pending = false
        return 0x08
    }
}

/// Two local APICs on one APIC bus, driven through their registers with a manual clock and no
/// CPU (as QEMU's qtest drives apic.c): the timer's modes, IPIs between them, priorities and
/// EOI, INIT/SIPI, NMI, the PIC behind LINT0, and MSIs from a PCI function.
@Suite struct LocalAPICTests {
    let clock = ManualClock()
    let scheduler: Scheduler
    let bus = APICBus()
    let pic = FakePIC()
    let bsp: LocalAPIC
    let ap: LocalAPIC

    init() {
        scheduler = Scheduler(clock: clock)
        bsp = LocalAPIC(id: 0, bootstrap: true, clock: clock, bus: bus, pic: pic)
        ap = LocalAPIC(id: 1, bootstrap: false, clock: clock, bus: bus, pic: pic)
        for apic in [bsp, ap] {
            scheduler.add(apic)
            apic.write(offset: 0xF0, width: 4, value: 0x1FF) // software enable, spurious 0xFF
        }
    }

    func run(to ns: UInt64) {
        while let next = scheduler.nextDeadline(), next <= ns {
            clock.set(next)
            scheduler.fireDue()
        }
        clock.set(ns)
    }

    /// Takes the interrupt as a CPU would (INTA) and ends it (EOI); returns the vector.
    func take(_ apic: LocalAPIC) -> UInt8? {
        guard apic.interruptPending else { return nil }
        let vector = apic.acknowledgeInterrupt()
        apic.write(offset: 0xB0, width: 4, value: 0)
        return vector
    }

    func sendIPI(from apic: LocalAPIC, destination: UInt8, low: UInt32) {
        apic.write(offset: 0x310, width: 4, value: UInt32(destination) << 24)
        apic.write(offset: 0x300, width: 4, value: low)
    }

    @Test func registersAfterReset() {
        #expect(bsp.read(offset: 0x20, width: 4) == 0)
        #expect(ap.read(offset: 0x20, width: 4) == 0x0100_0000)
        #expect(bsp.read(offset: 0x30, width: 4) == 0x0005_0014)
        #expect(bsp.baseMSR == 0xFEE0_0900 && ap.baseMSR == 0xFEE0_0800)
        #expect(bsp.read(offset: 0x350, width: 4) == 0x700) // BSP LINT0: ExtINT
        #expect(ap.read(offset: 0x350, width: 4) == 0x1_0000) // masked
        #expect(bsp.read(offset: 0xE0, width: 4) == 0xFFFF_FFFF)
    }

    @Test func oneShotTimerFiresOnceAfterCountTimesDivisor() {
        bsp.write(offset: 0x3E0, width: 4, value: 0x3) // divide by 16
        bsp.write(offset: 0x320, width: 4, value: 0x40) // one-shot, vector 0x40
        bsp.write(offset: 0x380, width: 4, value: 1000) // 16 µs
        run(to: 8000)
        #expect(bsp.read(offset: 0x390, width: 4) == 500)
        run(to: 15_999)
        #expect(!bsp.isRequested(0x40))
        run(to: 16_000)
        #expect(bsp.isRequested(0x40))
        #expect(take(bsp) == 0x40)
        run(to: 1_000_000)
        #expect(!bsp.interruptPending)
        #expect(bsp.read(offset: 0x390, width: 4) == 0)
    }

    @Test func periodicTimerReloads() {
        bsp.write(offset: 0x3E0, width: 4, value: 0xB) // divide by 1
        bsp.write(offset: 0x320, width: 4, value: 0x2_0041) // periodic, vector 0x41
        bsp.write(offset: 0x380, width: 4, value: 1000)
        var fired = 0
        for step in 1...10 {
            run(to: UInt64(step) * 500)
            if take(bsp) == 0x41 { fired += 1 }
        }
        #expect(fired == 5)
        run(to: 5250)
        #expect(bsp.read(offset: 0x390, width: 4) == 750)
        bsp.write(offset: 0x380, width: 4, value: 0) // a zero count stops it
        run(to: 20_000)
        #expect(take(bsp) == nil)
    }

    @Test func maskedTimerCountsButRaisesNothing() {
        bsp.write(offset: 0x3E0, width: 4, value: 0xB)
        bsp.write(offset: 0x320, width: 4, value: 0x1_0042)
        bsp.write(offset: 0x380, width: 4, value: 100)
        run(to: 1000)
        #expect(!bsp.isRequested(0x42))
    }

    @Test func fixedIPIReachesTheOtherAPICAndEOIEndsIt() {
        sendIPI(from: bsp, destination: 1, low: 0x4050) // fixed, physical, assert, vector 0x50
        #expect(!bsp.isRequested(0x50))
        #expect(ap.isRequested(0x50) && ap.interruptPending)
        #expect(ap.acknowledgeInterrupt() == 0x50)
        #expect(ap.isInService(0x50) && !ap.isRequested(0x50))
        #expect(ap.read(offset: 0xA0, width: 4) == 0x50) // PPR follows ISR
        ap.write(offset: 0xB0, width: 4, value: 0)
        #expect(!ap.isInService(0x50))
        // The reply: AP to BSP by shorthand "all excluding self".
        ap.write(offset: 0x300, width: 4, value: 0xC_4051)
        #expect(bsp.isRequested(0x51) && !ap.isRequested(0x51))
    }

    @Test func taskPriorityHoldsBackLowerClasses() {
        ap.write(offset: 0x80, width: 4, value: 0x50)
        sendIPI(from: bsp, destination: 1, low: 0x4045)
        #expect(ap.isRequested(0x45) && !ap.interruptPending)
        sendIPI(from: bsp, destination: 1, low: 0x4061)
        #expect(ap.acknowledgeInterrupt() == 0x61)
        // 0x45 waits while 0x61 is in service and after, until the TPR drops.
        ap.write(offset: 0xB0, width: 4, value: 0)
        #expect(!ap.interruptPending)
        ap.write(offset: 0x80, width: 4, value: 0)
        #expect(take(ap) == 0x45)
    }

    @Test func logicalDestinationsFlatAndCluster() {
        bsp.write(offset: 0xD0, width: 4, value: 0x0100_0000)
        ap.write(offset: 0xD0, width: 4, value: 0x0200_0000)
        sendIPI(from: bsp, destination: 0x02, low: 0x4860) // logical flat: bit 1 is the AP
        #expect(ap.isRequested(0x60) && !bsp.isRequested(0x60))
        sendIPI(from: bsp, destination: 0x03, low: 0x4861) // both
        #expect(ap.isRequested(0x61) && bsp.isRequested(0x61))
        for apic in [bsp, ap] { apic.write(offset: 0xE0, width: 4, value: 0x0FFF_FFFF) } // cluster model
        ap.write(offset: 0xD0, width: 4, value: 0x1100_0000) // cluster 1, member bit 0
        sendIPI(from: bsp, destination: 0x01, low: 0x4862) // cluster 0
        #expect(!ap.isRequested(0x62))
        sendIPI(from: bsp, destination: 0x11, low: 0x4862) // cluster 1, member 0
        #expect(ap.isRequested(0x62))
    }

    @Test func lowestPriorityPicksTheLowerTaskPriority() {
        bsp.write(offset: 0x80, width: 4, value: 0x20)
        sendIPI(from: ap, destination: 0xFF, low: 0x4170) // lowest priority, physical broadcast
        #expect(ap.isRequested(0x70) && !bsp.isRequested(0x70))
        ap.write(offset: 0x80, width: 4, value: 0x30)
        sendIPI(from: ap, destination: 0xFF, low: 0x4171)
        #expect(bsp.isRequested(0x71) && !ap.isRequested(0x71))
    }

    @Test func initAndStartupWaitForTheMachine() {
        ap.write(offset: 0x80, width: 4, value: 0x40)
        sendIPI(from: bsp, destination: 0, low: 0xC_4500) // INIT, all excluding self
        sendIPI(from: bsp, destination: 0, low: 0xC_0500 | 0x8000) // INIT level de-assert: ignored
        sendIPI(from: bsp, destination: 0, low: 0xC_4610) // SIPI vector 0x10
        let signals = ap.takeStartupSignals()
        #expect(signals.initSignal && signals.startupVector == 0x10)
        #expect(ap.read(offset: 0x80, width: 4) == 0) // INIT reset the AP's registers
        #expect(ap.read(offset: 0x20, width: 4) == 0x0100_0000) // but not its ID
        let none = bsp.takeStartupSignals()
        #expect(!none.initSignal && none.startupVector == nil)
    }

    @Test func nmiIPICallsTheCPU() {
        var nmis = 0
        ap.onNMI = { nmis += 1 }
        sendIPI(from: bsp, destination: 1, low: 0x4400)
        #expect(nmis == 1)
    }

    @Test func illegalVectorsAreErrors() {
        sendIPI(from: bsp, destination: 1, low: 0x4005)
        #expect(!ap.interruptPending)
        bsp.write(offset: 0x280, width: 4, value: 0)
        #expect(bsp.read(offset: 0x280, width: 4) == 0x20) // send illegal vector
    }

    @Test func picReachesTheCPUThroughLINT0OrWithTheAPICDisabled() {
        pic.pending = true
        #expect(bsp.interruptPending && !ap.interruptPending)
        #expect(bsp.acknowledgeInterrupt() == 0x08)
        pic.pending = true
        bsp.write(offset: 0x350, width: 4, value: 0x1_0700) // LINT0 masked
        #expect(!bsp.interruptPending)
        #expect(bsp.writeBaseMSR(0xFEE0_0000)) // globally disabled: the PIC goes straight through
        #expect(bsp.interruptPending && bsp.mmioBase == nil)
        #expect(!bsp.writeBaseMSR(0xFEE0_0C00)) // x2APIC enable: #GP
    }

    @Test func baseMSRRelocates() {
        #expect(ap.writeBaseMSR(0x0010_0800))
        #expect(ap.mmioBase == 0x0010_0000 && ap.baseMSR == 0x0010_0800)
    }

    @Test func msiFromAPCIFunctionReachesItsDestination() throws {
        let memory = try MemoryMap(ramSize: 1 << 20)
        let irqs = IRQRecorder()
        let pci = PCIBus(memory: memory, ports: PortMap(), interrupts: irqs.router)
        pci.msiSink = bus
        let f = PCITestFunction()
        let msi = f.config.addMSI(vectors: 1, is64Bit: false)
        pci.attach(f, device: 3)
        f.configWrite(msi.offset + 4, width: 4, value: 0xFEE0_1000) // destination APIC 1, physical
        f.configWrite(msi.offset + 8, width: 2, value: 0x0045) // fixed, edge, vector 0x45
        f.configWrite(msi.offset + 2, width: 2, value: 1)
        msi.notify()
        #expect(ap.isRequested(0x45) && !bsp.isRequested(0x45))
        bus.deliverMSI(MSIMessage(address: 0xFED0_0000, data: 0x46)) // not an APIC address
        #expect(bus.droppedMSIs == 1 && !ap.isRequested(0x46))
    }
}
