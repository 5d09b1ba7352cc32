/// What the TUI drives a VM through: a `VMSession` in this process, or a `VMClient` talking to
/// a VM process over its control socket. Everything is thread-safe and returns at once.
public protocol VMControl: AnyObject, Sendable {
    var name: String { get }
    /// How long an ACPI OS gets to shut down after the power button before the power is cut.
    var powerButtonTimeout: Duration { get }
    var state: VMState { get }
    var stats: VMStats { get }
    var warnings: [String] { get }
    var mediaNotice: VMSession.MediaNotice? { get }
    /// How the last network switch went.
    var networkNotice: VMSession.MediaNotice? { get }
    /// Moves whenever the screen, serial output, state or stats change.
    var version: UInt64 { get }
    func screen() -> (screen: TextScreen, version: UInt64)
    func serial() -> (scrollback: SerialScrollback, version: UInt64)
    func send(_ stroke: GuestKeyStroke)
    func send(scancodes: [UInt8])
    func sendSerial(_ bytes: [UInt8])
    func pause()
    func resume()
    func reset()
    func sendCtrlAltDel()
    func requestPowerOff()
    func powerOff()
    func changeISO(_ path: String?)
    /// Plugs the network card into a `network=` value (nat, bridge:IFACE) while the VM runs.
    func switchNetwork(to mode: String)
    /// Replaces NAT's port forwards (a `forwards=` value) while the VM runs; the outcome shows up
    /// in `networkNotice`.
    func setPortForwards(_ forwards: String)
}

extension VMSession: VMControl {}
