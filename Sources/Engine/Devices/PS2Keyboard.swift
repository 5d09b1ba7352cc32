/// A PS/2 keyboard behind the i8042: answers the commands SeaBIOS and OSes send (reset with
/// BAT 0xAA, enable/disable, scancode set, LEDs, typematic, identify, echo) and queues the
/// set-2 scancodes the host injects. The controller translates them to set 1.
public final class PS2Keyboard {
    private(set) var output: [UInt8] = []
    private var pendingCommand: UInt8?
    public private(set) var scanning = true
    public private(set) var scancodeSet: UInt8 = 2
    public private(set) var leds: UInt8 = 0
    /// Bytes kept while the guest has not read them; beyond this, new keys are dropped.
    static let queueLimit = 256

    public init() {}

    func reset() {
        output = []
        pendingCommand = nil
        scanning = true
        scancodeSet = 2
        leds = 0
    }

    var hasOutput: Bool { !output.isEmpty }

    func take() -> UInt8? {
        output.isEmpty ? nil : output.removeFirst()
    }

    /// Host key events (set-2 bytes, with E0/F0 prefixes).
    func inject(_ bytes: [UInt8]) {
        guard scanning, output.count + bytes.count <= PS2Keyboard.queueLimit else { return }
        output += bytes
    }

    /// A byte the guest sent to the keyboard (port 0x60 with no controller command pending).
    func receive(_ byte: UInt8) {
        if let command = pendingCommand {
            pendingCommand = nil
            switch command {
            case 0xED: leds = byte & 7
            case 0xF0:
                if byte == 0 {
                    output += [0xFA, scancodeSet]
                    return
                }
                if (1...3).contains(byte) { scancodeSet = byte }
            default: break // 0xF3 typematic rate
            }
            output.append(0xFA)
            return
        }
        switch byte {
        case 0xED, 0xF0, 0xF3:
            pendingCommand = byte
            output.append(0xFA)
        case 0xEE: output.append(0xEE)
        case 0xF2: output += [0xFA, 0xAB, 0x83]
        case 0xF4:
            scanning = true
            output.append(0xFA)
        case 0xF5:
            scanning = false
            output = [0xFA]
        case 0xF6:
            scancodeSet = 2
            output.append(0xFA)
        case 0xFF:
            reset()
            output = [0xFA, 0xAA]
        default:
            output.append(0xFA) // F7-FD and the rest: acknowledged, no effect
        }
    }
}
