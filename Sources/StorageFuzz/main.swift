import Engine
import Glibc

/// libFuzzer entry point (scripts/fuzz-storage builds it with -sanitize=fuzzer): each input is a
/// whole image file. Refusals are fine; a trap, a sanitizer report, a hang, or data that does not
/// read back after being written is a finding.
@_cdecl("LLVMFuzzerTestOneInput")
public func storageFuzzOne(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    // One scratch file per fuzzing process, in memory when /dev/shm exists.
    let path = "/dev/shm/vmtui-fuzz-\(getpid()).img"
    let fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
    guard fd >= 0 else { fatalError("cannot create \(path)") }
    var done = 0
    while done < size {
        let n = write(fd, data + done, size - done)
        guard n > 0 else { fatalError("cannot write \(path)") }
        done += n
    }
    close(fd)
    defer { unlink(path) }
    do {
        guard try DiskImage.exercise(path: path) else { fatalError("data written to an accepted image did not read back") }
    } catch {
        guard error.path == path, !error.problem.isEmpty else { fatalError("error without the file or the problem: \(error)") }
    }
    return 0
}

/// libFuzzer's driver (the sanitizer runtime has it). SwiftPM makes this file the program's
/// main, so libFuzzer's own main is never linked and the driver is started from here.
@_silgen_name("LLVMFuzzerRunDriver")
func llvmFuzzerRunDriver(_ argc: UnsafeMutablePointer<CInt>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
                         _ test: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt) -> CInt

var argc = CommandLine.argc
var argv = CommandLine.unsafeArgv
exit(llvmFuzzerRunDriver(&argc, &argv, storageFuzzOne))
