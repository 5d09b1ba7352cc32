/// Why `Interpreter.benchmark(bootSector:)` could not measure an image.
public enum BenchmarkImageError: Error, CustomStringConvertible {
    case notBootSector
    case didNotFinish(VCPUExit, UInt64)

    public var description: String {
        switch self {
        case .notBootSector:
            return "the image is not a boot sector (it needs 512 bytes ending in 55 AA); build one with scripts/bench-cpu"
        case .didNotFinish(let exit, let retired):
            return "the guest stopped (\(exit)) after \(retired) instructions without writing port 0xF4; "
                + "a benchmark guest must write port 0xF4 and halt when done"
        }
    }
}
