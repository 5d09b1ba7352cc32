import Testing
@testable import Engine

/// A PIC stand-in: INTR asserted by a guest OUT to port 0x80, vector 0x20 on acknowledge.
final class FakePIC: InterruptAcknowledge, PortDevice {
    var interruptPending = false
    var acknowledged = 0
    func acknowledgeInterrupt() -> UInt8 {
        interruptPending = false
        acknowledged += 1
        return 0x20
    }
    func portRead(_ port: UInt16, width: Int) -> UInt32 { 0 }
    func portWrite(_ port: UInt16, width: Int, value: UInt32) { interruptPending = true }
}

/// A port that raises an NMI on the CPU when the guest writes it (the local APIC's self-NMI, cut short).
final class NMIPort: PortDevice {
    weak var cpu: Interpreter?
    func portRead(_ port: UInt16, width: Int) -> UInt32 { 0 }
    func portWrite(_ port: UInt16, width: Int, value: UInt32) { cpu?.raiseNMI() }
}

@Suite(GuestProgram.needsNASM)
struct InterruptDeliveryTests {
    static let guest = """
    bits 16
    org 0x1000
        xor ax, ax
        mov ds, ax
        mov ss, ax
        mov sp, 0x9000
        mov word [0x20 * 4], handler
        mov word [0x20 * 4 + 2], 0
        sti
        hlt                         ; the host raises INTR while we sleep
        cli
        out 0x80, al                ; INTR now, but IF=0: held
        mov byte [marker], 0
        sti
        mov byte [marker], 1        ; runs in the STI shadow, before the interrupt
        nop
        cli
        hlt                         ; IF=0: halted for good
    handler:
        inc byte [count]
        mov al, [marker]
        mov [seen], al
        iret
    marker: db 0
    count: db 0
    seen: db 0xFF
    """

    @Test func hltWakesOnInterruptAndSTIShadowHolds() throws {
        let ports = PortMap()
        let pic = FakePIC()
        ports.register(pic, ports: 0x80...0x80)
        let code = try GuestProgram.assemble(Self.guest)
        let (cpu, memory) = try GuestProgram.load(code, ports: ports)
        cpu.interruptController = pic
        #expect(cpu.run(instructions: 1000) == .halted)
        #expect(cpu.run(instructions: 1000) == .halted, "nothing pending: stays halted")
        pic.interruptPending = true
        #expect(cpu.run(instructions: 1000) == .haltedForever)
        let base = UInt32(code.count) - 3 + 0x1000
        #expect(memory.read(base + 1, width: 1) == 2, "two interrupts handled")
        #expect(memory.read(base + 2, width: 1) == 1, "the instruction after STI ran first")
        #expect(pic.acknowledged == 2)
    }

    static let nestedNMIGuest = """
    bits 16
    org 0x1000
        xor ax, ax
        mov ds, ax
        mov ss, ax
        mov sp, 0x9000
        mov word [2 * 4], nmi
        mov word [2 * 4 + 2], 0
        out 0x81, al                ; an NMI
        nop
        mov al, [count]
        mov [after], al
        cli
        hlt
    nmi:
        inc byte [count]
        cmp byte [count], 1
        jne .done
        out 0x81, al                ; a second NMI inside the handler: it waits for the IRET
        nop
        nop
        mov al, [count]
        mov [seen], al
    .done:
        iret
    count: db 0
    seen: db 0xFF
    after: db 0xFF
    """

    /// SDM vol. 3 §6.7.1: after an NMI is delivered, the next one waits until an IRET
    /// (kvm-unit-tests' eventinj checks where it lands).
    @Test func nmiInsideTheNMIHandlerWaitsForIRET() throws {
        let ports = PortMap()
        let nmiPort = NMIPort()
        ports.register(nmiPort, ports: 0x81...0x81)
        let code = try GuestProgram.assemble(Self.nestedNMIGuest)
        let (cpu, memory) = try GuestProgram.load(code, ports: ports)
        nmiPort.cpu = cpu
        #expect(cpu.run(instructions: 1000) == .haltedForever)
        let base = UInt32(code.count) - 3 + 0x1000
        #expect(memory.read(base, width: 1) == 2, "both NMIs handled")
        #expect(memory.read(base + 1, width: 1) == 1, "the second NMI did not interrupt the first handler")
        #expect(memory.read(base + 2, width: 1) == 2, "the second NMI came at the first handler's IRET")
    }
}
