import Foundation

extension Machine {
    /// A machine for `config` as `vmtui run` and the console build it: firmware through
    /// FirmwareLocator (the VM's paths, `biosOverride`, or Debian's SeaBIOS) and the VM's CPU
    /// backend: KVM for Virtualize (after the detection `run` reports), else the interpreter.
    /// `baseDirectory` resolves relative image paths (the VM bundle).
    public static func assemble(config: VMConfig, baseDirectory: String?, biosOverride: String? = nil,
                                timeMode: TimeMode = .realtime) throws -> Machine {
        let firmware = try FirmwareLocator(firmware: config.firmware, biosOverride: biosOverride).load()
        return try Machine(config: config, firmware: firmware, timeMode: timeMode, baseDirectory: baseDirectory,
                           vcpuFactory: vcpuFactory(mode: config.mode, timeMode: timeMode))
    }

    /// Virtualize: one KVM VM whose memory slots follow the machine's memory, its vCPUs under the
    /// machine lock. Deterministic time counts instructions, which only the interpreter can.
    static func vcpuFactory(mode: VMConfig.Mode, timeMode: TimeMode) throws -> VCPUFactory {
        guard mode == .virtualize else { return { Interpreter(environment: $0) } }
        guard timeMode == .realtime else {
            throw KVMError("Virtualize runs in real time: --deterministic needs the software CPU (--mode emulate)")
        }
        let vm = try KVMVirtualMachine(system: KVMSystem())
        return { environment in
            if environment.index == 0 { try vm.attach(environment.memory) }
            return try KVMVCPU(vm: vm, environment: environment)
        }
    }
}
