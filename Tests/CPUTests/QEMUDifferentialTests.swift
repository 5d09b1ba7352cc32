import Foundation
import TestSupport
import Testing
@testable import Engine

/// Differential test of 32-bit (and 0x66-prefixed 16-bit) integer instructions: one generated
/// nasm guest runs on QEMU (TCG, booted by SeaBIOS from a raw disk) and on the interpreter;
/// both dump registers and masked EFLAGS after every instruction through port 0xE9.
@Suite struct QEMUDifferentialTests {
    static let qemu = "/usr/bin/qemu-system-i386"

    /// Instruction under test and the EFLAGS bits the SDM leaves undefined for it.
    static let cases: [(String, UInt32)] = {
        let of: UInt32 = 0x800, sf: UInt32 = 0x80, zf: UInt32 = 0x40, af: UInt32 = 0x10, pf: UInt32 = 0x4, cf: UInt32 = 0x1
        var c: [(String, UInt32)] = []
        for op in ["add", "adc", "sub", "sbb", "cmp"] { c.append(("\(op) eax, ebx", 0)); c.append(("\(op) ax, bx", 0)); c.append(("\(op) al, bh", 0)) }
        for op in ["and", "or", "xor", "test"] { c.append(("\(op) eax, ebx", af)); c.append(("\(op) cx, dx", af)) }
        c += [("add eax, 0x7FFFFFFF", 0), ("sub dword [buf], ebx", 0), ("adc [buf + 2], si", 0), ("sbb ecx, -3", 0)]
        c += [("inc eax", 0), ("dec bx", 0), ("neg ecx", 0), ("not edx", 0), ("neg al", 0)]
        for op in ["shl", "shr", "sar", "rol", "ror", "rcl", "rcr"] {
            c.append(("\(op) eax, cl", of | af))
            c.append(("\(op) bx, cl", of | af))
            c.append(("\(op) dl, 1", af))
            c.append(("\(op) ecx, 1", af))
            c.append(("\(op) esi, 7", of | af))
        }
        c += [("shld eax, ebx, cl", of | af), ("shrd eax, ebx, cl", of | af), ("shld si, di, 5", of | af), ("shrd edi, esi, 13", of | af)]
        c += [("mul ebx", sf | zf | af | pf), ("imul ebx", sf | zf | af | pf), ("mul bx", sf | zf | af | pf), ("imul cl", sf | zf | af | pf),
              ("imul eax, ebx", sf | zf | af | pf), ("imul esi, edi, -77", sf | zf | af | pf), ("imul cx, dx, 300", sf | zf | af | pf)]
        let all = of | sf | zf | af | pf | cf
        c += [("or ebx, 1\n xor edx, edx\n div ebx", all), ("and ebx, 0x7FFFFFFF\n or ebx, 1\n cdq\n idiv ebx", all),
              ("or bx, 1\n xor dx, dx\n div bx", all), ("or bl, 1\n movzx ax, al\n div bl", all)]
        c += [("bt eax, ebx", of | sf | zf | af | pf), ("bts eax, ecx", of | sf | zf | af | pf), ("btr esi, 17", of | sf | zf | af | pf),
              ("btc di, 3", of | sf | zf | af | pf), ("and ebx, 63\n bt [buf], ebx", of | sf | zf | af | pf), ("mov ebx, -9\n bts [buf + 8], ebx", of | sf | zf | af | pf)]
        c += [("or ebx, 0x100\n bsf eax, ebx", of | sf | af | pf | cf), ("or ebx, 0x100\n bsr eax, ebx", of | sf | af | pf | cf)]
        c += [("movzx eax, bl", 0), ("movsx eax, bh", 0), ("movsx ecx, dx", 0), ("movzx esi, word [buf]", 0)]
        c += [("setnz al", 0), ("setl bl", 0), ("setbe cl", 0), ("seto dh", 0), ("setp ah", 0), ("setg dl", 0)]
        c += [("cmovz eax, ebx", 0), ("cmovle ecx, edx", 0), ("cmova si, di", 0), ("cmovs eax, [buf]", 0)]
        c += [("xchg eax, ebx", 0), ("cmpxchg ebx, ecx", 0), ("cmpxchg dl, ch", 0), ("xadd eax, ebx", 0), ("xadd [buf], cx", 0)]
        c += [("bswap eax", 0), ("cwde", 0), ("cdq", 0), ("cbw", 0), ("cwd", 0)]
        c += [("daa", of), ("das", of), ("aaa", of | sf | zf | pf), ("aas", of | sf | zf | pf), ("aam", of | af | cf), ("aad", of | af | cf)]
        c += [("lea eax, [ebx + esi * 4 + 0x1234]", 0), ("lea cx, [bx + di - 9]", 0), ("lea edx, [ecx * 8]", 0)]
        c += [("movsb", 0), ("cmpsd", 0), ("scasw", 0), ("lodsd", 0)]
        c += [("clc\n cmc", 0), ("stc\n sahf", 0), ("lahf", 0), ("salc", 0)]
        // x87, results through [buf] or AX (status exception bits masked: not emulated).
        c += [("fild dword [buf]\n fild dword [buf + 4]\n fdivp st1\n fstp dword [buf]", 0),
              ("fild dword [buf]\n fsqrt\n fstp qword [buf]", 0),
              ("fild dword [buf]\n fimul dword [buf + 4]\n fistp dword [buf]", 0),
              ("fld dword [buf]\n fld dword [buf + 4]\n fcompp\n fnstsw ax\n and ax, 0x4500", 0),
              ("fild dword [buf]\n fidiv dword [buf + 4]\n frndint\n fistp dword [buf]", 0),
              ("fld dword [buf]\n fxam\n fnstsw ax\n and ax, 0x4700\n fstp st0", 0),
              ("fild word [buf]\n fld1\n fscale\n fstp st1\n fistp dword [buf]", 0),
              ("fld dword [buf + 4]\n fchs\n fabs\n fadd dword [buf]\n fst qword [buf]\n fstp st0", 0),
              ("fild qword [buf]\n fistp qword [buf]", 0)]
        // x87 status words from FNINIT: exception flags, ES, C3 C2 C0 (C1 is masked: a rounded-up
        // result is not reported), for random and chosen operands. QEMU 7.2's TCG reports neither
        // DE nor stack faults, and sets C2 for FSQRT of a negative (undefined in the SDM): those are
        // left to X87ExceptionTests.
        let sw = "fnstsw ax\n and ax, 0x45FF"
        c += [("fninit\n fild dword [buf]\n fild dword [buf + 4]\n fdivp st1\n \(sw)", 0),
              ("fninit\n fld dword [buf]\n fld dword [buf + 4]\n fmulp st1\n fstp dword [buf]\n \(sw)", 0),
              ("fninit\n fld dword [buf]\n fdiv dword [buf + 4]\n fstp dword [buf]\n \(sw)", 0),
              ("fninit\n fld dword [buf]\n fsqrt\n fnstsw ax\n and ax, 0xFF", 0),
              ("fninit\n fld qword [buf]\n fstp dword [buf]\n \(sw)", 0),
              ("fninit\n fld dword [buf]\n fistp word [buf]\n \(sw)", 0),
              ("fninit\n fld dword [buf]\n fcom dword [buf + 4]\n \(sw)", 0),
              ("fninit\n fld1\n fldz\n fdivp st1\n \(sw)", 0),
              ("fninit\n fldz\n fldz\n fdivp st1\n \(sw)", 0),
              ("mov dword [buf], 0x7F800001\n fninit\n fld dword [buf]\n fstp dword [buf]\n \(sw)", 0),
              ("mov dword [buf], 0x7FC00000\n fninit\n fld dword [buf]\n fucom st0\n \(sw)", 0),
              ("mov dword [buf], 0x7FC00000\n fninit\n fld dword [buf]\n fcom st0\n \(sw)", 0),
              ("mov dword [buf], 0x7F7FFFFF\n fninit\n fld dword [buf]\n fmul st0, st0\n fstp dword [buf]\n \(sw)", 0),
              ("mov dword [buf], 0x00800000\n fninit\n fld dword [buf]\n fmul st0, st0\n fstp dword [buf]\n \(sw)", 0),
              ("fninit\n fild dword [buf]\n fld1\n fdivrp st1\n fistp dword [buf]\n \(sw)", 0)]
        // Precision control: [buf] gets the low 32 bits of the 64-bit significand.
        for (cw, op) in [("0x027F", "fdivp st1"), ("0x007F", "fdivp st1"), ("0x0A7F", "fmulp st1"), ("0x0C7F", "fsubp st1"), ("0x067F", "fsqrt"), ("0x047F", "fdivp st1"), ("0x087F", "faddp st1")] {
            c.append(("mov word [buf + 8], \(cw)\n fninit\n fldcw [buf + 8]\n fild dword [buf]\n fild dword [buf + 4]\n fabs\n fsqrt\n \(op)\n fstp tword [buf]\n \(sw)", 0))
        }
        return c
    }()

    /// A fixed pseudo-random input set (registers, flags) per case: same on both sides.
    static func vectors() -> [[UInt32]] {
        var x: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt32 {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17
            return UInt32(truncatingIfNeeded: x)
        }
        var out: [[UInt32]] = []
        for i in 0..<6 {
            var v = (0..<6).map { _ in next() }
            if i == 0 { v = [0, 0, 0, 0, 0, 0] }
            if i == 1 { v = [0x8000_0000, 0xFFFF_FFFF, 1, 0x7FFF_FFFF, 0x80, 0xFF] }
            v.append(next() & 0x8D5) // EFLAGS input: arithmetic flags only
            out.append(v)
        }
        return out
    }

    static func source() -> String {
        var body = ""
        for (instruction, mask) in cases {
            for v in vectors() {
                body += """
                    mov dword [flagmask], \(~mask & 0x8D5)
                    mov dword [buf], 0x\(String(v[0] ^ 0x5A5A_1234, radix: 16))
                    mov dword [buf + 4], 0x\(String(v[1] ^ 0x0F0F_7777, radix: 16))
                    mov eax, 0x\(String(v[0], radix: 16))
                    mov ebx, 0x\(String(v[1], radix: 16))
                    mov ecx, 0x\(String(v[2], radix: 16))
                    mov edx, 0x\(String(v[3], radix: 16))
                    mov esi, buf
                    mov edi, buf + 4
                    push dword 0x\(String(v[6] | 0x2, radix: 16))
                    popfd
                    \(instruction)
                    call dump

                """
            }
        }
        return """
        bits 16
        org 0x7C00
            cli
            xor ax, ax
            mov ds, ax
            mov es, ax
            mov ss, ax
            mov sp, 0x7C00
            cmp dword [marker], 0x54534554      ; already loaded by the vmtui harness?
            je loaded
            mov si, dap
            mov cx, (end - marker + 511) / 512  ; sectors left
        read:                                   ; BIOS extended reads (DL = boot drive),
            mov ax, 64                          ; 64 sectors at a time
            cmp cx, ax
            ja .count
            mov ax, cx
        .count:
            mov [dap + 2], ax
            push ax
            push cx
            mov ah, 0x42
            int 0x13
            pop cx
            pop ax
            sub cx, ax
            add [dap + 8], ax                   ; next LBA
            shl ax, 5
            add [dap + 6], ax                   ; next buffer segment (512 / 16 per sector)
            test cx, cx
            jnz read
        loaded:
            lgdt [gdtr]
            mov eax, cr0
            or al, 1
            mov cr0, eax
            jmp 0x08:pm
        align 8
        gdt: dq 0, 0x00CF9A000000FFFF, 0x00CF92000000FFFF
        gdtr: dw 23
              dd gdt
        dap: db 0x10, 0
             dw 0
             dw 0x7E00, 0
             dq 1
        times 510 - ($ - $$) db 0
        dw 0xAA55
        marker: dd 0x54534554
        bits 32
        pm:
            mov ax, 0x10
            mov ds, ax
            mov es, ax
            mov ss, ax
            mov esp, 0x7000
            cld
        \(body)
            mov al, 0
            out 0xF4, al                        ; QEMU isa-debug-exit; ignored by vmtui
            cli
            hlt
        dump:                                   ; EAX..EDI (not ESP), masked EFLAGS, [buf]
            pushfd
            pushad
            mov eax, [esp + 32]
            and eax, [flagmask]
            mov [esp + 32], eax
            mov ebx, [buf]
            mov [esp + 12], ebx                 ; ESP slot carries [buf]
            mov ecx, 9
            lea esi, [esp]
        .word:
            mov eax, [esi]
            out 0xE9, al
            shr eax, 8
            out 0xE9, al
            shr eax, 8
            out 0xE9, al
            shr eax, 8
            out 0xE9, al
            add esi, 4
            loop .word
            popad
            popfd
            ret
        align 4
        flagmask: dd 0
        buf: dd 0, 0, 0, 0
        end:
        """
    }

    @Test(.enabled(if: GuestProgram.available && FileManager.default.isExecutableFile(atPath: qemu),
                   "needs nasm and qemu-system-i386 (apt-get install nasm qemu-system-x86)"))
    func integerInstructionsMatchQEMU() throws {
        var image = try GuestProgram.assemble(Self.source())
        image += [UInt8](repeating: 0, count: (512 - image.count % 512) % 512 + 512)
        let expected = try Self.runQEMU(image)
        let ours = try GuestProgram.run(binary: image, at: 0x7C00, budget: 10_000_000)
        #expect(ours.exit == .haltedForever, "\(ours.exit)")
        let record = 36
        let vectorCount = Self.vectors().count
        #expect(expected.count == Self.cases.count * vectorCount * record, "QEMU produced \(expected.count) bytes")
        var mismatches: [String] = []
        let names = ["EDI", "ESI", "EBP", "[buf]", "EBX", "EDX", "ECX", "EAX", "EFLAGS"]
        for n in 0..<min(expected.count, ours.bytes.count) / record {
            let a = Array(expected[n * record..<(n + 1) * record]), b = Array(ours.bytes[n * record..<(n + 1) * record])
            if a == b { continue }
            var diffs: [String] = []
            for r in 0..<9 {
                let x = a[r * 4..<r * 4 + 4].reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
                let y = b[r * 4..<r * 4 + 4].reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
                if x != y { diffs.append("\(names[r]) qemu \(String(x, radix: 16)) ours \(String(y, radix: 16))") }
            }
            let (instruction, _) = Self.cases[n / vectorCount]
            mismatches.append("\(instruction.replacingOccurrences(of: "\n", with: ";")) input \(n % vectorCount): \(diffs.joined(separator: ", "))")
        }
        #expect(ours.bytes.count == expected.count)
        #expect(mismatches.isEmpty, "\(mismatches.count) mismatches:\n\(mismatches.prefix(30).joined(separator: "\n"))")
        print("QEMU differential: \(Self.cases.count) instruction forms x \(vectorCount) inputs, \(mismatches.count) mismatches")
    }

    static func runQEMU(_ image: [UInt8]) throws -> [UInt8] {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vmtui-qemu-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let disk = dir.appendingPathComponent("disk.img"), out = dir.appendingPathComponent("out.bin")
        try Data(image).write(to: disk)
        let process = try HostProcess(qemu, ["-display", "none", "-no-reboot", "-nodefaults", "-m", "32",
                                             "-drive", "file=\(disk.path),format=raw,if=ide",
                                             "-debugcon", "file:\(out.path)",
                                             "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"])
        if process.wait(seconds: 60) == nil { process.kill() }
        return [UInt8]((try? Data(contentsOf: out)) ?? Data())
    }
}
