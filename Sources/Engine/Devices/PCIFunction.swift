/// One function on PCI bus 0, reached through the i440FX's configuration mechanism #1.
/// `offset` is the byte offset in the 256-byte space; accesses never cross a dword. The bus
/// reads `config` for the BARs, the interrupt pin and the capabilities; a function that reacts
/// to its own registers implements `configWrite` and calls `config.write` first.
public protocol PCIFunction: AnyObject {
    var config: PCIConfigSpace { get }
    func configRead(_ offset: Int, width: Int) -> UInt32
    func configWrite(_ offset: Int, width: Int, value: UInt32)
}

extension PCIFunction {
    public func configRead(_ offset: Int, width: Int) -> UInt32 { config.read(offset, width: width) }
    public func configWrite(_ offset: Int, width: Int, value: UInt32) { config.write(offset, width: width, value: value) }
}
