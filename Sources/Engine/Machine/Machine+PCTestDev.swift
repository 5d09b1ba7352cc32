extension Machine {
    /// Adds QEMU's pc-testdev (`-device pc-testdev`) for test kernels such as kvm-unit-tests'.
    /// Call before the first slice.
    @discardableResult
    public func attachPCTestDev() -> PCTestDev {
        let device = PCTestDev(interrupts: pic)
        for range in PCTestDev.portRanges { ports.register(device, ports: range) }
        memory.mapMMIO(from: PCTestDev.ioMemoryBase, size: PCTestDev.ioMemorySize, device: device)
        return device
    }
}
