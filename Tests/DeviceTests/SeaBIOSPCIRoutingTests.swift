import Foundation
import Testing
@testable import Engine

/// Debian's SeaBIOS programs the PIRQ routes and the ELCR itself and writes each device's
/// interrupt line (0x3C) from its own swizzle (the IRQ its ACPI _PRT/LNKx will describe):
/// two test functions with interrupt pins must reach exactly that IRQ, level-triggered, and
/// their BARs must answer where SeaBIOS placed them. Skipped when SeaBIOS is not installed.
@Suite struct SeaBIOSPCIRoutingTests {
    static let biosInstalled = FileManager.default.fileExists(atPath: FirmwareLocator.defaultBIOS)

    @Test(.enabled(if: biosInstalled, "needs Debian's seabios package"))
    func seabiosInterruptLinesMatchWhatThePinsReach() throws {
        var config = VMConfig(name: "pci-irq-test")
        config.memoryMiB = 32
        let machine = try Machine(config: config, firmware: try FirmwareLocator().load(),
                                  timeMode: .deterministic(nanosecondsPerInstruction: 10),
                                  unixTime: 1_700_000_000) { Interpreter(environment: $0) }
        // Pins whose neighbouring PIRQs SeaBIOS routes to the other IRQ (10, 10, 11, 11), so an
        // off-by-one swizzle shows.
        let a = PCITestFunction(interruptPin: 2), b = PCITestFunction(interruptPin: 3)
        let registers = TestBARHandler(tag: 0x5A00_0000), io = TestBARHandler(tag: 0x00A0_0000)
        a.config.defineMemoryBAR(0, size: 0x1000, handler: registers, is64Bit: true)
        a.config.defineIOBAR(2, size: 0x20, handler: io)
        machine.hostBridge.attach(a, device: 3) // INTB of slot 3: PIRQD
        machine.hostBridge.attach(b, device: 4) // INTC of slot 4: PIRQB
        var slices = 0
        while machine.runSlice() == nil, slices < 5_000,
              !machine.debugConsole.text.contains("No bootable device") { slices += 1 }
        let log = machine.debugConsole.text
        #expect(log.contains("PCI: init bdf=00:03.0"), "SeaBIOS did not get through PCI setup")

        let elcr = machine.ports.read(0x4D0, width: 1) | machine.ports.read(0x4D1, width: 1) << 8
        for (device, slot) in [(a, 3), (b, 4)] {
            let line = Int(device.configRead(0x3C, width: 1))
            #expect((3..<16).contains(line), "slot \(slot): SeaBIOS chose IRQ \(line)")
            #expect(elcr & (1 << UInt32(line)) != 0, "slot \(slot): IRQ \(line) is not level-triggered")
            #expect(!machine.pic.isRequested(line))
            device.config.setINTx(true)
            #expect(machine.pic.isRequested(line), "slot \(slot): the pin does not reach IRQ \(line)")
            device.config.setINTx(false)
            #expect(!machine.pic.isRequested(line))
        }

        let bar0 = a.config.barAddress(0), bar2 = a.config.barAddress(2)
        #expect(bar0 >= 0x8000_0000 && bar0 < 0xFEC0_0000)
        #expect(machine.memory.read(UInt32(bar0) + 0x10, width: 4) == 0x5A00_0010)
        #expect(machine.ports.read(UInt16(bar2) + 4, width: 1) == 0x04)
        withExtendedLifetime((registers, io)) {} // BARs hold their handlers weakly
    }
}
