import Foundation
import Testing
@testable import Engine

// These run tiny real-mode guests on this host's /dev/kvm through the KVM backend. Here that is
// kvm-pvm, which Virtualize refuses for real guests but which runs these (KVM-NOTES.md), hence
// allowParavirtual. Skipped where /dev/kvm does not open (no KVM, no permission).
let kvmOpens: Bool = {
    let fd = open("/dev/kvm", O_RDWR | O_CLOEXEC)
    if fd >= 0 { close(fd) }
    return fd >= 0
}()

/// Records port writes and answers reads with `readValue`.
private final class PortRecorder: PortDevice {
    var writes: [UInt8] = []
    let readValue: UInt32 = 0x37
    func portRead(_ port: UInt16, width: Int) -> UInt32 { readValue }
    func portWrite(_ port: UInt16, width: Int, value: UInt32) { writes.append(UInt8(value)) }
}

/// Records MMIO writes and answers every read with 0x5A plus the offset in its page.
private final class MMIORecorder: MMIODevice {
    var writes: [(UInt32, Int, UInt32)] = []
    var reads: [UInt32] = []
    func mmioRead(_ address: UInt32, width: Int) -> UInt32 {
        reads.append(address)
        return 0x5A + (address & 0xFFF)
    }
    func mmioWrite(_ address: UInt32, width: Int, value: UInt32) { writes.append((address, width, value)) }
}

/// A 1 MiB machine with `code` at 0x1000, an MMIO page at 0xD0000 and a port device at 0x510,
/// its vCPU in real mode at 0000:1000.
private final class TinyGuest {
    let memory: MemoryMap
    let ports = PortMap()
    let portDevice = PortRecorder()
    let mmioDevice = MMIORecorder()
    let lock = MachineLock()
    let vm: KVMVirtualMachine
    let vcpu: KVMVCPU
    /// Where the x87 error latch would send IRQ 13 (a property: lines hold their router unowned).
    let irqs = InterruptRouter()

    init(code: [UInt8], data: [UInt8] = []) throws {
        let memory = try MemoryMap(ramSize: 1 << 20)
        self.memory = memory
        code.withUnsafeBytes { memory.ram.advanced(by: 0x1000).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        data.withUnsafeBytes { memory.ram.advanced(by: 0x1100).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        memory.mapMMIO(from: 0xD0000, size: 4096, device: mmioDevice)
        ports.register(portDevice, ports: 0x510...0x510)
        vm = try KVMVirtualMachine(system: KVMSystem(allowParavirtual: true))
        try vm.attach(memory)
        let environment = VCPUEnvironment(index: 0, memory: memory, ports: ports, clock: HostClock(), timeMode: .realtime,
                                          interrupts: PIC8259Pair(), coprocessorError: CoprocessorErrorLatch(irq13: irqs.line(13)),
                                          lock: lock)
        vcpu = try KVMVCPU(vm: vm, environment: environment)
        var r = vcpu.registers
        r.segments[1] = VCPUSegment(selector: 0, base: 0, limit: 0xFFFF, attributes: 0x9B)
        r.rip = 0x1000
        vcpu.registers = r
    }

    /// Runs the vCPU on a thread of its own until `deadline` ns of HostClock time; nil if it
    /// did not return within `seconds`.
    func run(kickWhen ready: @escaping () -> Bool = { false }, deadline: UInt64 = .max, seconds: Double = 10) -> VCPUExit? {
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var exit: VCPUExit?
        nonisolated(unsafe) let vcpu = self.vcpu
        let lock = self.lock
        Thread.detachNewThread {
            lock.lock() // run is called with the machine lock, as Machine.runSlice does
            exit = vcpu.run(until: deadline)
            lock.unlock()
            done.signal()
        }
        let start = Date()
        while done.wait(timeout: .now() + 0.01) == .timedOut {
            if Date().timeIntervalSince(start) > seconds {
                // Stop the guest so its registers can be read for the report; nil all the same.
                vcpu.kick()
                _ = done.wait(timeout: .now() + 5)
                return nil
            }
            if lock.withLock(ready) { vcpu.kick() }
        }
        return exit
    }
}

@Test(.enabled(if: kvmOpens, "needs a /dev/kvm this user can open"))
func kvmPortAndMMIOExitsReachTheDevicesAndAKickEndsTheSpin() throws {
    let code: [UInt8] = [
        0xBA, 0x10, 0x05, // mov dx, 0x510
        0xB0, 0x42, 0xEE, // mov al, 0x42; out dx, al
        0xEC, 0xEE, // in al, dx; out dx, al
        0xBE, 0x00, 0x11, 0xB9, 0x03, 0x00, 0xF3, 0x6E, // mov si, 0x1100; mov cx, 3; rep outsb
        0xB8, 0x00, 0xD0, 0x8E, 0xD8, // mov ax, 0xD000; mov ds, ax
        0xC6, 0x06, 0x00, 0x00, 0x99, // mov byte [0], 0x99 (MMIO write)
        0xA0, 0x04, 0x00, 0xEE, // mov al, [4] (MMIO read); out dx, al
        0xEB, 0xFE, // jmp $ (at 0x101E)
    ]
    let guest = try TinyGuest(code: code, data: Array("abc".utf8))
    // Kick once the last OUT has arrived: the guest then spins until the kick ends KVM_RUN.
    let exit = guest.run(kickWhen: { guest.portDevice.writes.count == 6 })
    #expect(exit == .kicked, "\(guest.portDevice.writes) \(guest.vcpu.registers.dump)")
    #expect(guest.portDevice.writes == [0x42, 0x37, 0x61, 0x62, 0x63, 0x5E])
    #expect(guest.mmioDevice.writes.count == 1)
    #expect(guest.mmioDevice.writes.first.map { $0.0 == 0xD0000 && $0.1 == 1 && $0.2 == 0x99 } == true)
    #expect(guest.mmioDevice.reads == [0xD0004])
    let r = guest.vcpu.registers
    #expect(r.rip == 0x101E)
    #expect(r.segments[3].selector == 0xD000 && r.segments[3].base == 0xD0000)
}

@Test(.enabled(if: kvmOpens, "needs a /dev/kvm this user can open"))
func kvmKickBeforeRunReturnsAtOnce() throws {
    let guest = try TinyGuest(code: [0xEB, 0xFE]) // jmp $
    guest.vcpu.kick()
    #expect(guest.run(seconds: 5) == .kicked)
    // The kick was consumed: the next run spins until kicked again.
    #expect(guest.run(kickWhen: { true }, seconds: 5) == .kicked)
}

@Test(.enabled(if: kvmOpens, "needs a /dev/kvm this user can open"))
func kvmResetPutsThePowerOnStateBack() throws {
    let guest = try TinyGuest(code: [0xEB, 0xFE])
    guest.vcpu.reset(.powerOn)
    let r = guest.vcpu.registers
    #expect(r.rip == 0xFFF0)
    #expect(r.segments[1].selector == 0xF000 && r.segments[1].base == 0xFFFF_0000)
    #expect(r.cr0 == 0x6000_0010)
    #expect(r.gpr[2] != 0) // EDX: the CPU signature
}

@Test(.enabled(if: FileManager.default.fileExists(atPath: "/sys/module/kvm_pvm"), "only where kvm-pvm is loaded"))
func kvmParavirtualIsRefusedWithoutTheOverride() {
    #expect(throws: KVMError.self) { try KVMSystem() }
}

@Test(.enabled(if: kvmOpens, "needs a /dev/kvm this user can open"))
func kvmSpinningGuestStopsAtTheDeadline() throws {
    let guest = try TinyGuest(code: [0xEB, 0xFE]) // jmp $
    let start = Date()
    #expect(guest.run(deadline: 200_000_000, seconds: 5) == .deadlineReached)
    #expect(Date().timeIntervalSince(start) < 2)
}

@Test(.enabled(if: kvmOpens, "needs a /dev/kvm this user can open"))
func kvmHaltedGuestStopsAtTheDeadline() throws {
    // HLT stays in the kernel (its local APIC would wake it): only the deadline timer ends KVM_RUN.
    let guest = try TinyGuest(code: [0xFA, 0xF4, 0xEB, 0xFD]) // cli; hlt; jmp back to the hlt
    let start = Date()
    #expect(guest.run(deadline: 200_000_000, seconds: 5) == .deadlineReached)
    #expect(Date().timeIntervalSince(start) < 2)
}
