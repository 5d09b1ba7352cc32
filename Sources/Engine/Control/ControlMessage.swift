/// One message of the control protocol a VM process speaks on its socket
/// ($XDG_RUNTIME_DIR/vmtui/NAME.sock) with its clients: the TUI, `vmtui attach/console/screen/type/wait/stop`.
///
/// Framing. Every message is one frame: a UInt32 length (of what follows, 1 byte to 1 MiB), one
/// type byte, the payload. Integers are big-endian; a string or byte field is a UInt32 length and
/// the bytes (strings UTF-8); a Double is its IEEE-754 bits as a UInt64.
///
/// Handshake. The client's first frame is `hello` (0x01): the 8 bytes "vmtui-cp" and a UInt16
/// version. A VM that speaks the version answers `welcome` (0x81: version, VM name, power-button
/// grace in seconds as UInt32, UInt32 count + warning strings), then sends the state, the stats,
/// the whole screen and the COM1 scrollback. Any other first frame, an oversize length, another
/// version or a frame that does not decode is answered with `error` (0xFF: string) and the
/// connection is closed; the VM keeps running. A hello must arrive within 5 s.
///
/// Client to VM:  0x02 keys (set-2 scancode bytes)  0x03 serial (bytes for COM1 to receive)
///                0x04 request (UInt8 kind: 1 pause, 2 resume, 3 reset, 4 Ctrl-Alt-Del, 5 power
///                button, 6 power off, 7 CD change + bool inserted + string path, 8 network
///                switch + string mode).
/// VM to client:  0x82 state (UInt8: 0 starting, 1 running, 2 paused, 3 stopped + the stop:
///                UInt8 kind 0 powered off, 1 triple fault + string, 2 reset loop + UInt32 count,
///                3 unsupported + string, 4 host error + string, 5 debug exit + Int64 code,
///                6 power cut)
///                0x83 stats (uptime ns UInt64, instructions UInt64, MIPS Double, CPU % Double,
///                then bytes/s as Doubles: disk read, disk written, network received, sent,
///                then UInt32 count + each vCPU's MIPS as Doubles, a bool: instructions are
///                counted, UInt32 count + each vCPU thread's CPU % as Doubles)
///                0x84 screen (see `ScreenUpdate`: only rows whose cells changed, plus cursor)
///                0x85 serial (COM1 output as a dumb terminal shows it: text, CR, LF)
///                0x86 notice (UInt8 kind 1 CD change, 2 network; bool error; string text)
/// Screen updates go out only when cells or the cursor changed, at most every 10 ms; state,
/// stats and notices when they change.
public enum ControlMessage: Equatable, Sendable {
    case hello(version: UInt16)
    case keys([UInt8])
    case serialInput([UInt8])
    case request(Request)
    case welcome(Welcome)
    case state(VMState)
    case stats(VMStats)
    case screen(ScreenUpdate)
    case serialOutput([UInt8])
    case notice(Notice)
    case error(String)

    /// The version this build speaks; any change to the encoding moves it.
    /// Version 2: the stats carry disk and network rates. Version 3: port forwards set while running.
    /// Version 4: the stats carry each vCPU's MIPS or its thread's CPU use.
    public static let version: UInt16 = 4
    /// The most vCPUs a stats message may list (a hostile count must not allocate without end).
    static let maxCPUs = 1024
    static let magic = Array("vmtui-cp".utf8)
    /// The largest frame either side accepts (a 132x60 screen is 16 KB).
    public static let maxFrame = 1 << 20

    public enum Request: Equatable, Sendable {
        case pause, resume, reset, ctrlAltDel, powerButton, powerOff
        /// nil ejects.
        case changeISO(String?)
        case switchNetwork(String)
        /// A `forwards=` value: NAT's port forwards while the VM runs.
        case setPortForwards(String)
    }

    public struct Welcome: Equatable, Sendable {
        public var version: UInt16
        public var name: String
        public var powerButtonSeconds: UInt32
        public var warnings: [String]

        public init(version: UInt16 = ControlMessage.version, name: String, powerButtonSeconds: UInt32, warnings: [String]) {
            self.version = version
            self.name = name
            self.powerButtonSeconds = powerButtonSeconds
            self.warnings = warnings
        }
    }

    public struct Notice: Equatable, Sendable {
        public enum Kind: UInt8, Sendable { case media = 1, network = 2 }
        public var kind: Kind
        public var isError: Bool
        public var text: String

        public init(kind: Kind, isError: Bool, text: String) {
            self.kind = kind
            self.isError = isError
            self.text = text
        }
    }

    /// The frame for this message, length prefix included.
    public func frame() -> [UInt8] {
        var body = ControlWriter()
        encode(into: &body)
        var frame = ControlWriter()
        frame.u32(UInt32(body.bytes.count))
        return frame.bytes + body.bytes
    }

    private func encode(into w: inout ControlWriter) {
        switch self {
        case .hello(let version):
            w.u8(0x01)
            for byte in ControlMessage.magic { w.u8(byte) }
            w.u16(version)
        case .keys(let bytes): w.u8(0x02); w.data(bytes)
        case .serialInput(let bytes): w.u8(0x03); w.data(bytes)
        case .request(let request):
            w.u8(0x04)
            switch request {
            case .pause: w.u8(1)
            case .resume: w.u8(2)
            case .reset: w.u8(3)
            case .ctrlAltDel: w.u8(4)
            case .powerButton: w.u8(5)
            case .powerOff: w.u8(6)
            case .changeISO(let path): w.u8(7); w.bool(path != nil); w.string(path ?? "")
            case .switchNetwork(let mode): w.u8(8); w.string(mode)
            case .setPortForwards(let forwards): w.u8(9); w.string(forwards)
            }
        case .welcome(let welcome):
            w.u8(0x81)
            w.u16(welcome.version)
            w.string(welcome.name)
            w.u32(welcome.powerButtonSeconds)
            w.u32(UInt32(welcome.warnings.count))
            for warning in welcome.warnings { w.string(warning) }
        case .state(let state):
            w.u8(0x82)
            ControlMessage.encode(state, into: &w)
        case .stats(let stats):
            w.u8(0x83)
            w.u64(stats.uptimeNanoseconds)
            w.u64(stats.instructionsRetired)
            w.f64(stats.mips)
            w.f64(stats.cpuPercent)
            w.f64(stats.diskReadRate)
            w.f64(stats.diskWriteRate)
            w.f64(stats.networkReceiveRate)
            w.f64(stats.networkSendRate)
            w.u32(UInt32(stats.mipsPerCPU.count))
            for mips in stats.mipsPerCPU { w.f64(mips) }
            w.bool(stats.countsInstructions)
            w.u32(UInt32(stats.cpuPercentPerCPU.count))
            for percent in stats.cpuPercentPerCPU { w.f64(percent) }
        case .screen(let update): w.u8(0x84); update.encode(into: &w)
        case .serialOutput(let bytes): w.u8(0x85); w.data(bytes)
        case .notice(let notice): w.u8(0x86); w.u8(notice.kind.rawValue); w.bool(notice.isError); w.string(notice.text)
        case .error(let text): w.u8(0xFF); w.string(text)
        }
    }

    private static func encode(_ state: VMState, into w: inout ControlWriter) {
        switch state {
        case .starting: w.u8(0)
        case .running: w.u8(1)
        case .paused: w.u8(2)
        case .hostDiskFull(let path): w.u8(4); w.string(path)
        case .stopped(let stop):
            w.u8(3)
            switch stop {
            case .poweredOff: w.u8(0)
            case .tripleFault(let what): w.u8(1); w.string(what)
            case .resetLoop(let count): w.u8(2); w.u32(UInt32(clamping: count))
            case .unsupported(let what): w.u8(3); w.string(what)
            case .hostError(let what): w.u8(4); w.string(what)
            case .debugExit(let code): w.u8(5); w.i64(Int64(code))
            case .powerCut: w.u8(6)
            }
        }
    }

    /// Decodes one frame's body (the bytes after the length).
    public static func decode(_ body: [UInt8]) throws -> ControlMessage {
        var r = ControlReader(body)
        let type = try r.u8()
        let message: ControlMessage
        switch type {
        case 0x01:
            for byte in magic where try r.u8() != byte {
                throw ControlProtocolError.malformed("the hello does not start with \"vmtui-cp\"")
            }
            message = .hello(version: try r.u16())
        case 0x02: message = .keys(try r.data())
        case 0x03: message = .serialInput(try r.data())
        case 0x04:
            switch try r.u8() {
            case 1: message = .request(.pause)
            case 2: message = .request(.resume)
            case 3: message = .request(.reset)
            case 4: message = .request(.ctrlAltDel)
            case 5: message = .request(.powerButton)
            case 6: message = .request(.powerOff)
            case 7:
                let inserted = try r.bool()
                let path = try r.string()
                message = .request(.changeISO(inserted ? path : nil))
            case 8: message = .request(.switchNetwork(try r.string()))
            case 9: message = .request(.setPortForwards(try r.string()))
            case let kind: throw ControlProtocolError.malformed("unknown request kind \(kind)")
            }
        case 0x81:
            let version = try r.u16(), name = try r.string(), seconds = try r.u32()
            let count = try r.u32()
            guard count <= 1024 else { throw ControlProtocolError.malformed("\(count) warnings") }
            let warnings = try (0..<count).map { _ in try r.string() }
            message = .welcome(Welcome(version: version, name: name, powerButtonSeconds: seconds, warnings: warnings))
        case 0x82: message = .state(try decodeState(&r))
        case 0x83:
            var stats = VMStats()
            stats.uptimeNanoseconds = try r.u64()
            stats.instructionsRetired = try r.u64()
            stats.mips = try r.f64()
            stats.cpuPercent = try r.f64()
            stats.diskReadRate = try r.f64()
            stats.diskWriteRate = try r.f64()
            stats.networkReceiveRate = try r.f64()
            stats.networkSendRate = try r.f64()
            stats.mipsPerCPU = try decodePerCPU(&r)
            stats.countsInstructions = try r.bool()
            stats.cpuPercentPerCPU = try decodePerCPU(&r)
            message = .stats(stats)
        case 0x84: message = .screen(try ScreenUpdate.decode(&r))
        case 0x85: message = .serialOutput(try r.data())
        case 0x86:
            guard let kind = Notice.Kind(rawValue: try r.u8()) else { throw ControlProtocolError.malformed("unknown notice kind") }
            let isError = try r.bool()
            message = .notice(Notice(kind: kind, isError: isError, text: try r.string()))
        case 0xFF: message = .error(try r.string())
        default: throw ControlProtocolError.malformed("unknown message type 0x\(String(type, radix: 16))")
        }
        guard r.isAtEnd else { throw ControlProtocolError.malformed("trailing bytes after message type 0x\(String(type, radix: 16))") }
        return message
    }

    /// A count and that many Doubles, one per vCPU.
    private static func decodePerCPU(_ r: inout ControlReader) throws -> [Double] {
        let cpus = Int(try r.u32())
        guard cpus <= maxCPUs else { throw ControlProtocolError.malformed("stats for \(cpus) CPUs") }
        return try (0..<cpus).map { _ in try r.f64() }
    }

    private static func decodeState(_ r: inout ControlReader) throws -> VMState {
        switch try r.u8() {
        case 0: return .starting
        case 1: return .running
        case 2: return .paused
        case 4: return .hostDiskFull(path: try r.string())
        case 3:
            switch try r.u8() {
            case 0: return .stopped(.poweredOff)
            case 1: return .stopped(.tripleFault(try r.string()))
            case 2: return .stopped(.resetLoop(count: Int(try r.u32())))
            case 3: return .stopped(.unsupported(try r.string()))
            case 4: return .stopped(.hostError(try r.string()))
            case 5: return .stopped(.debugExit(Int32(truncatingIfNeeded: try r.i64())))
            case 6: return .stopped(.powerCut)
            case let kind: throw ControlProtocolError.malformed("unknown stop kind \(kind)")
            }
        case let kind: throw ControlProtocolError.malformed("unknown state \(kind)")
        }
    }
}
