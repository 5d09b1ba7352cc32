import Foundation
import Testing
import TestSupport

/// `vmtui run --kernel`: usage errors, a file that is not a multiboot kernel, and the nasm
/// kernel Tests/guests/multiboot-hello.asm booted headless with its COM1 output on stdout and
/// its debug-exit code as the status, as kvm-unit-tests' runner expects from QEMU.
@Suite struct RunKernelTests {
    @Test(.enabled(if: binaryBuilt, "needs .build/debug/vmtui (swift build)"))
    func badKernelArgumentsAreUsageErrors() throws {
        let vmtui = VMTUIProcess()
        let notKernel = try vmtui.run("run", "--kernel", "/etc/hostname", "--headless")
        #expect(notKernel.status == 2)
        #expect(notKernel.stderr.contains("/etc/hostname is not a multiboot kernel"), "\(notKernel.stderr)")
        let missing = try vmtui.run("run", "--kernel", "/nonexistent/k.flat", "--headless")
        #expect(missing.status == 2 && missing.stderr.contains("cannot read kernel /nonexistent/k.flat"), "\(missing.stderr)")
        #expect(try vmtui.run("run", "--append", "x", "--headless").status == 2)
        #expect(try vmtui.run("run", "--headless").stderr.contains("--kernel FILE"))
    }

    @Test(.enabled(if: binaryBuilt, "needs .build/debug/vmtui (swift build)"),
          .enabled(if: HostFiles.have(HostFiles.nasm, HostFiles.seabios, HostFiles.multibootROM),
                   "needs nasm, seabios and QEMU's multiboot.bin (apt-get install nasm seabios qemu-system-data)"))
    func multibootKernelPrintsOnSerialAndExitsWithItsCode() throws {
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../guests/multiboot-hello.asm").standardizedFileURL.path
        let kernel = NSTemporaryDirectory() + "run-kernel-\(UUID().uuidString).bin"
        defer { try? FileManager.default.removeItem(atPath: kernel) }
        try assemble(source, into: kernel)
        let run = try VMTUIProcess().run("run", "--kernel", kernel, "--append", "a=1 b", "--headless", "--serial", "stdio", "--timeout", "60")
        #expect(run.status == 33, "\(run.stderr)")
        #expect(run.stdout.contains("multiboot ok flags=0000024D lower=0000027F upper="), "\(run.stdout)")
        #expect(run.stdout.contains("loader=vmtui cmdline=\(kernel) a=1 b\n"), "\(run.stdout)")
    }
}
