import ArgumentParser
import Engine
import Foundation

/// `vmtui console NAME`: a running VM's COM1 on this terminal, raw, as `virsh console`.
struct ConsoleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "console", abstract: "Connect this terminal to a running VM's COM1 (raw; Ctrl-] leaves).")

    @Argument(help: "The VM's name.")
    var name: String

    /// Ctrl-], as in telnet and virsh console.
    static let escape: UInt8 = 0x1D

    func run() throws {
        let client = try VMLauncher.attach(name) { bytes in FileHandle.standardOutput.write(Data(bytes)) }
        // On standard output, as virsh console says where it is connected.
        FileHandle.standardOutput.write(Data("vmtui: connected to \(name)'s COM1 (Ctrl-] leaves)\r\n".utf8))
        let raw = TerminalRawMode(signals: false)
        defer { raw.restore() }
        var input = pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0)
        var buffer = [UInt8](repeating: 0, count: 4096)
        while client.isConnected {
            guard poll(&input, 1, 50) > 0 else { continue }
            let n = read(STDIN_FILENO, &buffer, buffer.count)
            if n <= 0 { break }
            let bytes = buffer[0..<n]
            if let end = bytes.firstIndex(of: ConsoleCommand.escape) {
                client.sendSerial(Array(bytes[..<end]))
                break
            }
            client.sendSerial(Array(bytes))
        }
        raw.restore()
        if !client.isConnected {
            FileHandle.standardOutput.write(Data("\nvmtui: \(name) \(client.crash.map { "crashed: \($0)" } ?? "stopped: \(client.state)")\n".utf8))
        } else {
            FileHandle.standardOutput.write(Data("\nvmtui: left \(name)'s COM1; it keeps running\n".utf8))
        }
        client.close()
    }
}
