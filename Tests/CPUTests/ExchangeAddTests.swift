import Testing
@testable import Engine

/// XADD stores the sum in the destination after copying the old destination to the source,
/// so `xadd eax, eax` doubles EAX (kvm-unit-tests realmode "xadd").
@Suite(GuestProgram.needsNASM)
struct ExchangeAddTests {
    static func run(_ body: String) throws -> GuestProgram.Outcome {
        return try GuestProgram.run("bits 16\norg 0x1000\n" + body + "\ncli\nhlt\n")
    }

    @Test func sameRegisterDoubles() throws {
        let outcome = try Self.run("mov eax, 0x12345678\nxadd eax, eax\nmov bl, 0x40\nmov cl, 0x40\nxadd bl, cl")
        #expect(outcome.cpu.gpr[0] == 0x2468_ACF0)
        #expect(outcome.cpu.gpr[3] & 0xFF == 0x80)
        #expect(outcome.cpu.gpr[1] & 0xFF == 0x40)
    }

    @Test func memoryDestinationGetsTheSum() throws {
        let outcome = try Self.run("mov dword [0x2000], 5\nmov edx, 7\nxadd [0x2000], edx\nmov esi, [0x2000]")
        #expect(outcome.cpu.gpr[2] == 5)
        #expect(outcome.cpu.gpr[6] == 12)
    }
}
