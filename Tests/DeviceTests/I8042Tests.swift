import Testing
@testable import Engine

/// The i8042 with its PS/2 keyboard through ports 0x60/0x64, as SeaBIOS and INT 16h use it.
@Suite struct I8042Tests {
    let irqs = IRQRecorder()
    let controller: I8042

    init() throws {
        controller = I8042(memory: try MemoryMap(ramSize: 1 << 20), irq1: irqs.line(1), irq12: irqs.line(12))
    }

    func setCommandByte(_ value: UInt8) {
        controller.portWrite(0x64, width: 1, value: 0x60)
        controller.portWrite(0x60, width: 1, value: UInt32(value))
    }

    /// Everything the guest can read from port 0x60 now, byte by byte while OBF is set.
    func drain() -> [UInt8] {
        var out: [UInt8] = []
        while controller.portRead(0x64, width: 1) & 1 != 0 && out.count < 1000 {
            out.append(UInt8(controller.portRead(0x60, width: 1)))
        }
        return out
    }

    @Test func translationTurnsEveryKeyIntoItsSet1Codes() {
        setCommandByte(0x61) // what SeaBIOS leaves: translation, keyboard IRQ on
        for key in GuestKey.allCases {
            let stroke = GuestKeyStroke(key)
            controller.inject(scancodes: stroke.set2Bytes)
            #expect(drain() == stroke.set1Bytes, "\(key)")
        }
        controller.inject(scancodes: GuestKeyStroke(.a, shift: true).set2Bytes)
        #expect(drain() == [0x2A, 0x1E, 0x9E, 0xAA])
        controller.inject(scancodes: GuestKey.up.set2Bytes(pressed: false))
        #expect(drain() == [0xE0, 0xC8])
    }

    @Test func withoutTranslationTheGuestSeesSet2() {
        setCommandByte(0x21)
        controller.inject(scancodes: GuestKeyStroke(.delete, ctrl: true).set2Bytes)
        #expect(drain() == [0x14, 0xE0, 0x71, 0xE0, 0xF0, 0x71, 0xF0, 0x14])
    }

    @Test func eachDeliveredByteRaisesIRQ1OnlyWhenEnabled() {
        setCommandByte(0x61)
        let before = irqs.edges[1]
        controller.inject(scancodes: GuestKeyStroke.set2Bytes(typing: "hi"))
        let bytes = drain()
        #expect(bytes == [0x23, 0xA3, 0x17, 0x97])
        #expect(irqs.edges[1] - before == bytes.count)
        setCommandByte(0x60)
        let quiet = irqs.edges[1]
        controller.inject(scancodes: GuestKeyStroke.set2Bytes(typing: "x"))
        #expect(drain() == [0x2D, 0xAD])
        #expect(irqs.edges[1] == quiet)
    }

    @Test func typingMapsTextToStrokes() {
        #expect(GuestKeyStroke.set2Bytes(typing: "A\r\n") ==
                [0x12, 0x1C, 0xF0, 0x1C, 0xF0, 0x12, 0x5A, 0xF0, 0x5A, 0x5A, 0xF0, 0x5A])
        #expect(GuestKeyStroke.set2Bytes(typing: "é").isEmpty)
    }

    @Test func keyboardResetAnswersAckAndBATUntranslated() {
        setCommandByte(0x61)
        controller.portWrite(0x60, width: 1, value: 0xFF)
        #expect(drain() == [0xFA, 0xAA])
        controller.portWrite(0x64, width: 1, value: 0xAA)
        #expect(drain() == [0x55])
    }
}
