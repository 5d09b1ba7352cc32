import Testing
@testable import Engine

/// The 16550A at COM1 through its ports: SeaBIOS's detection, FIFO trigger levels and the
/// interrupt identification priorities on IRQ4, THR-empty interrupts, divisor latch, loopback.
@Suite struct UART16550Tests {
    let irqs = IRQRecorder()
    let uart: UART16550
    var sent: [UInt8] { sink.bytes }
    let sink = Sink()

    final class Sink { var bytes: [UInt8] = [] }

    init() {
        uart = UART16550(base: 0x3F8, irq: irqs.line(4))
        uart.reset()
        uart.onTransmit = { [sink] in sink.bytes.append($0) }
    }

    func read(_ reg: UInt16) -> UInt8 { UInt8(uart.portRead(0x3F8 + reg, width: 1)) }
    func write(_ reg: UInt16, _ value: UInt8) { uart.portWrite(0x3F8 + reg, width: 1, value: UInt32(value)) }

    @Test func seabiosDetectionSequence() {
        write(1, 0x02)
        #expect(read(1) == 0x02)
        #expect(read(2) & 0x3F == 0x02) // THR empty pending
        write(1, 0x00)
        #expect(read(2) & 0x3F == 0x01) // nothing pending
    }

    @Test func fifoTriggerLevelAndCharacterTimeout() {
        write(4, 0x08) // OUT2: interrupts reach the bus
        write(2, 0x87) // FIFO on, clear both, trigger 8
        #expect(read(2) & 0xC0 == 0xC0)
        write(1, 0x01) // received-data interrupt
        uart.receive(Array("hello".utf8))
        #expect(read(2) & 0x0F == 0x0C) // below the trigger: character timeout
        uart.receive(Array(" world, and more".utf8))
        #expect(read(2) & 0x0F == 0x04) // at the trigger: data available
        #expect(irqs.levels[4])
        var got: [UInt8] = []
        while read(5) & 0x01 != 0 { got.append(read(0)) }
        #expect(String(decoding: got, as: UTF8.self) == "hello world, and more") // backlog refills the FIFO
        #expect(read(2) & 0x0F == 0x01)
        #expect(!irqs.levels[4])
    }

    @Test func interruptNeedsOUT2AndTHREmptyClearsOnIIRRead() {
        write(1, 0x02)
        #expect(!irqs.levels[4]) // OUT2 clear: the line stays quiet
        write(4, 0x08)
        #expect(irqs.levels[4])
        #expect(read(2) & 0x0F == 0x02)
        #expect(!irqs.levels[4]) // reading IIR acknowledged THR empty
        write(0, 0x41)
        #expect(irqs.levels[4]) // the byte left at once: THR empty again
        #expect(sent == [0x41])
        #expect(read(5) & 0x60 == 0x60)
    }

    @Test func divisorLatchAndLoopback() {
        write(3, 0x80) // DLAB
        write(0, 0x01); write(1, 0x00) // 115200 baud
        #expect(read(0) == 0x01 && read(1) == 0x00)
        write(3, 0x03) // 8N1
        write(4, 0x10 | 0x03) // loopback, DTR, RTS
        #expect(read(6) & 0x30 == 0x30) // DSR, CTS follow DTR, RTS
        write(0, 0x5A)
        #expect(sent.isEmpty) // looped back, not transmitted
        #expect(read(5) & 0x01 != 0)
        #expect(read(0) == 0x5A)
    }
}
