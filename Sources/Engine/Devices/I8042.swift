/// Intel 8042 keyboard controller at 0x60/0x64 (PLATFORM-NOTES §4.5): command byte, self
/// tests, output port (A20 gate, CPU reset line), set-2 to set-1 translation, IRQ1/IRQ12,
/// a PS/2 keyboard and a minimal PS/2 mouse port.
public final class I8042: PortDevice {
    public let keyboard = PS2Keyboard()
    private let memory: MemoryMap
    private let irq1: IRQLine
    private let irq12: IRQLine

    private enum Source { case controller, keyboard, aux }
    private var outputByte: UInt8 = 0
    private var outputFull = false
    private var outputSource = Source.controller
    private var commandByte: UInt8 = 0x50
    private var pendingCommand: UInt8?
    private var systemFlag = false
    private var lastWasCommand = false
    private var breakPrefix = false
    private var auxOutput: [UInt8] = []
    private var auxPendingCommand: UInt8?
    /// The CPU reset line (output port bit 0 pulsed low).
    public var onReset: () -> Void = {}

    public init(memory: MemoryMap, irq1: IRQLine, irq12: IRQLine) {
        self.memory = memory
        self.irq1 = irq1
        self.irq12 = irq12
    }

    public func reset() {
        keyboard.reset()
        outputFull = false
        commandByte = 0x50
        pendingCommand = nil
        systemFlag = false
        lastWasCommand = false
        breakPrefix = false
        auxOutput = []
        auxPendingCommand = nil
        irq1.lower()
        irq12.lower()
    }

    /// Queues host key events (set-2 scancodes with E0/F0 prefixes) for the guest.
    public func inject(scancodes: [UInt8]) {
        keyboard.inject(scancodes)
        refill()
    }

    private var translating: Bool { commandByte & 0x40 != 0 }
    private var keyboardDisabled: Bool { commandByte & 0x10 != 0 }
    private var auxDisabled: Bool { commandByte & 0x20 != 0 }

    public var status: UInt8 {
        var s: UInt8 = 0x10 // keyboard not inhibited
        if outputFull { s |= 0x01 }
        if systemFlag { s |= 0x04 }
        if lastWasCommand { s |= 0x08 }
        if outputFull && outputSource == .aux { s |= 0x20 }
        return s
    }

    /// Moves the next device byte into the output buffer when it is free.
    private func refill() {
        while !outputFull {
            if !keyboardDisabled, let byte = keyboard.take() {
                guard let translated = translateIfNeeded(byte) else { continue }
                deliver(translated, from: .keyboard)
            } else if !auxDisabled, !auxOutput.isEmpty {
                deliver(auxOutput.removeFirst(), from: .aux)
            } else {
                return
            }
        }
    }

    /// Set 2 to set 1: F0 becomes bit 7 of the next code. Returns nil for a swallowed prefix.
    private func translateIfNeeded(_ byte: UInt8) -> UInt8? {
        guard translating else { return byte }
        if byte == 0xF0 {
            breakPrefix = true
            return nil
        }
        let code = GuestKey.translateToSet1(byte)
        if breakPrefix {
            breakPrefix = false
            return code | 0x80
        }
        return code
    }

    private func deliver(_ byte: UInt8, from source: Source) {
        outputByte = byte
        outputFull = true
        outputSource = source
        if source == .keyboard && commandByte & 0x01 != 0 { irq1.pulse() }
        if source == .aux && commandByte & 0x02 != 0 { irq12.pulse() }
    }

    public func portRead(_ port: UInt16, width: Int) -> UInt32 {
        if port == 0x64 { return UInt32(status) }
        let byte = outputByte
        outputFull = false
        refill()
        return UInt32(byte)
    }

    public func portWrite(_ port: UInt16, width: Int, value: UInt32) {
        let byte = UInt8(value & 0xFF)
        if port == 0x64 {
            lastWasCommand = true
            command(byte)
        } else {
            lastWasCommand = false
            data(byte)
        }
        refill()
    }

    private func reply(_ byte: UInt8) {
        outputByte = byte
        outputFull = true
        outputSource = .controller
    }

    private func command(_ byte: UInt8) {
        switch byte {
        case 0x20: reply(commandByte)
        case 0x60, 0xD1, 0xD2, 0xD3, 0xD4: pendingCommand = byte
        case 0xA7: commandByte |= 0x20
        case 0xA8: commandByte &= ~0x20
        case 0xA9: reply(0x00)
        case 0xAA:
            systemFlag = true
            reply(0x55)
        case 0xAB: reply(0x00)
        case 0xAD: commandByte |= 0x10
        case 0xAE: commandByte &= ~0x10
        case 0xC0: reply(0xBF)
        case 0xD0: reply(outputPort)
        case 0xDD: memory.a20Enabled = false
        case 0xDF: memory.a20Enabled = true
        case 0xF0...0xFF:
            if byte & 1 == 0 { onReset() } // pulse output bit 0: CPU reset
        default: break
        }
    }

    private var outputPort: UInt8 {
        0x01 | (memory.a20Enabled ? 0x02 : 0) | (outputFull && outputSource != .aux ? 0x10 : 0) | (outputFull && outputSource == .aux ? 0x20 : 0)
    }

    private func data(_ byte: UInt8) {
        guard let command = pendingCommand else {
            keyboard.receive(byte)
            return
        }
        pendingCommand = nil
        switch command {
        case 0x60:
            commandByte = byte
            systemFlag = byte & 0x04 != 0
        case 0xD1:
            memory.a20Enabled = byte & 0x02 != 0
            if byte & 0x01 == 0 { onReset() }
        case 0xD2: deliver(byte, from: .keyboard)
        case 0xD3: deliver(byte, from: .aux)
        case 0xD4: auxReceive(byte)
        default: break
        }
    }

    /// A minimal PS/2 mouse: acknowledges everything, reset answers BAT and ID 0.
    private func auxReceive(_ byte: UInt8) {
        if auxPendingCommand != nil {
            auxPendingCommand = nil
            auxOutput.append(0xFA)
            return
        }
        switch byte {
        case 0xFF: auxOutput += [0xFA, 0xAA, 0x00]
        case 0xF2: auxOutput += [0xFA, 0x00]
        case 0xE9: auxOutput += [0xFA, 0x00, 0x02, 0x64]
        case 0xE8, 0xF3:
            auxPendingCommand = byte
            auxOutput.append(0xFA)
        default: auxOutput.append(0xFA)
        }
    }
}
