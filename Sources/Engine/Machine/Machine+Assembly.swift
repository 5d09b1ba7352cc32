extension Machine {
    /// A machine for `config` as `vmtui run` and the console build it: firmware through
    /// FirmwareLocator (the VM's paths, `biosOverride`, or Debian's SeaBIOS) and the interpreter CPU.
    /// `baseDirectory` resolves relative image paths (the VM bundle).
    public static func assemble(config: VMConfig, baseDirectory: String?, biosOverride: String? = nil,
                                timeMode: TimeMode = .realtime) throws -> Machine {
        let firmware = try FirmwareLocator(firmware: config.firmware, biosOverride: biosOverride).load()
        return try Machine(config: config, firmware: firmware, timeMode: timeMode, baseDirectory: baseDirectory) {
            Interpreter(environment: $0)
        }
    }
}
