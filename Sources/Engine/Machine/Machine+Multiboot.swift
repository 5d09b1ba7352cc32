extension Machine {
    /// The fw_cfg items QEMU's multiboot option ROM reads (QEMU's fw_cfg_keys.h names).
    private enum MultibootItem {
        static let kernelAddress: UInt16 = 0x07
        static let kernelSize: UInt16 = 0x08
        static let infoAddress: UInt16 = 0x0A // FW_CFG_INITRD_ADDR
        static let infoSize: UInt16 = 0x0B
        static let kernelEntry: UInt16 = 0x10
        static let kernelData: UInt16 = 0x11
        static let infoData: UInt16 = 0x12
    }

    static let multibootROMName = "genroms/multiboot.bin"

    /// Boots `kernel` as QEMU's `-kernel` does: SeaBIOS runs `optionROM` (QEMU's multiboot.bin)
    /// as the first boot device, and it loads the kernel and its information from fw_cfg. The
    /// items stay in fw_cfg, so a guest reset boots the kernel afresh. Call before the first slice.
    public func bootMultiboot(_ kernel: MultibootLoader, optionROM: [UInt8]) throws(MultibootError) {
        let image = try kernel.image(ramSize: memory.ramSize)
        let info = kernel.info
        fwCfg.setItem(MultibootItem.kernelAddress, FwCfg.le32(kernel.loadRange.start))
        fwCfg.setItem(MultibootItem.kernelSize, FwCfg.le32(UInt32(image.count)))
        fwCfg.setItem(MultibootItem.kernelData, image)
        fwCfg.setItem(MultibootItem.kernelEntry, FwCfg.le32(kernel.entry))
        fwCfg.setItem(MultibootItem.infoAddress, FwCfg.le32(MultibootLoader.infoAddress))
        fwCfg.setItem(MultibootItem.infoSize, FwCfg.le32(UInt32(info.count)))
        fwCfg.setItem(MultibootItem.infoData, info)
        fwCfg.addFile(Machine.multibootROMName, optionROM)
        // SeaBIOS gives the ROM's boot entry the priority of its line in bootorder: first.
        let others = (fwCfg.file("bootorder") ?? [0]).dropLast()
        fwCfg.addFile("bootorder", Array("/rom@\(Machine.multibootROMName)".utf8) + (others.isEmpty ? [] : [0x0A] + others) + [0])
    }
}
