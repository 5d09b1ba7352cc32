@testable import Engine

/// Records interrupt line levels and rising edges, standing in for the PIC in device tests.
final class IRQRecorder: InterruptController {
    var levels = [Bool](repeating: false, count: 16)
    var edges = [Int](repeating: 0, count: 16)

    func setIRQ(_ irq: Int, level: Bool) {
        if level && !levels[irq] { edges[irq] += 1 }
        levels[irq] = level
    }

    func line(_ irq: Int) -> IRQLine { IRQLine(irq: irq, controller: self) }
}
