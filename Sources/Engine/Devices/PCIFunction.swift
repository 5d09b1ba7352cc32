/// One function on PCI bus 0, reached through the i440FX's configuration mechanism #1.
/// `offset` is the byte offset in the 256-byte space; accesses never cross a dword.
public protocol PCIFunction: AnyObject {
    func configRead(_ offset: Int, width: Int) -> UInt32
    func configWrite(_ offset: Int, width: Int, value: UInt32)
}
