import Testing
@testable import Engine

/// x87 errors in MS-DOS compatibility mode (CR0.NE = 0) on the assembled PC: the waiting
/// instruction freezes with FERR# asserted, IRQ 13 reaches the guest through the PICs (INT 75h),
/// and a write to port 0xF0 (IGNNE#) lets the handler's FPU instructions, or the frozen one, run.
@Suite(GuestProgram.needsNASM)
struct MachineFERRTests {
    static let guest = """
    bits 16
    org 0x1000
        cli
        xor ax, ax
        mov ds, ax
        mov ss, ax
        mov sp, 0x9000
        mov al, 0x11                    ; both PICs: ICW1..ICW4, vectors 08h and 70h
        out 0x20, al
        out 0xA0, al
        mov al, 0x08
        out 0x21, al
        mov al, 0x70
        out 0xA1, al
        mov al, 0x04
        out 0x21, al
        mov al, 0x02
        out 0xA1, al
        mov al, 0x01
        out 0x21, al
        out 0xA1, al
        mov al, 0xFB                    ; only the cascade on the master
        out 0x21, al
        mov al, 0xDF                    ; only IRQ 13 on the slave
        out 0xA1, al
        mov word [0x75 * 4], irq13
        mov word [0x75 * 4 + 2], 0
        sti
        fninit
        fldcw [cw]                      ; ZE unmasked
        fld1
        fldz
    dividing:
        fdivp st1                       ; pending: ES
    frozen:
        fld1                            ; freezes, FERR# -> IRQ 13; the handler clears ES
        cmp byte [count], 1
        jne bad
        cmp word [return_ip], frozen
        jne bad
        cmp word [env + 6], dividing    ; real-mode FNSTENV: FIP as a linear address,
        jne bad
        cmp word [env + 8], 0x06F9      ; then FOP (DE F9)
        jne bad
        fldcw [cw]                      ; FNSTENV masked everything
        mov byte [keep], 1              ; next: the handler only writes port 0xF0
        fld1
        fldz
        fdivp st1
        fld1                            ; IGNNE# from the handler: runs with ES still set
        cmp byte [count], 2
        jne bad
        fnstsw ax
        test al, 0x80
        jz bad
        fnclex                          ; FERR# drops and takes IGNNE# with it
        fldcw [cw]
        mov byte [keep], 0
        fld1
        fldz
        fdivp st1
    waiting:
        fwait                           ; frozen again: a third IRQ 13
        cmp byte [count], 3
        jne bad
        cmp word [return_ip], waiting
        jne bad
        mov al, 'P'
        out 0xE9, al
        cli
        hlt
    bad:
        mov al, 'F'
        out 0xE9, al
        add al, [count]
        out 0xE9, al
        cli
        hlt
    irq13:
        push ax
        push bp
        inc byte [count]
        mov bp, sp
        mov ax, [bp + 4]
        mov [return_ip], ax
        fnstenv [env]
        xor al, al
        out 0xF0, al                    ; lowers IRQ 13, asserts IGNNE#
        cmp byte [keep], 0
        jne .eoi
        fnclex
    .eoi:
        mov al, 0x20
        out 0xA0, al
        out 0x20, al
        pop bp
        pop ax
        iret
    cw: dw 0x037B
    count: db 0
    keep: db 0
    return_ip: dw 0
    env: times 14 db 0
    """

    @Test func ferrRaisesIRQ13AndPortF0LetsTheHandlerRun() throws {
        let code = try GuestProgram.assemble(Self.guest)
        // Stand-in ROMs: the guest is loaded directly and never calls the BIOS.
        let firmware = Firmware(biosPath: "bios", bios: [UInt8](repeating: 0, count: 0x20000),
                                vgaBiosPath: "vgabios", vgaBios: [UInt8](repeating: 0, count: 0x8000))
        let config = VMConfig(name: "ferr", memoryMiB: 16, network: .init(mode: .none))
        let machine = try Machine(config: config, firmware: firmware, timeMode: .deterministic(nanosecondsPerInstruction: 10)) {
            Interpreter(environment: $0)
        }
        for (i, b) in code.enumerated() { machine.memory.write(0x1000 + UInt32(i), width: 1, value: UInt32(b)) }
        let cpu = try #require(machine.vcpus[0] as? Interpreter)
        cpu.loadRealCS(0)
        cpu.state.pointee.eip = 0x1000
        var slices = 0
        while machine.runSlice() == nil, !machine.haltedForever, slices < 100 { slices += 1 }
        #expect(machine.debugConsole.text == "P", "guest said \(machine.debugConsole.text.debugDescription)\n\(cpu.registerDump)")
        #expect(machine.haltedForever)
        #expect(!machine.coprocessorError.ferr)
        #expect(!machine.coprocessorError.ignoreNumericError)
    }
}
