@testable import Engine

/// Records interrupt line levels and rising edges per GSI, standing in for the PIC side of
/// the interrupt router in device tests (and for the PIC itself where a device drives one).
final class IRQRecorder: InterruptSink, InterruptController {
    var levels = [Bool](repeating: false, count: InterruptRouter.gsiCount)
    var edges = [Int](repeating: 0, count: InterruptRouter.gsiCount)
    let router = InterruptRouter()

    init() { router.addSink(self) }

    func setGSI(_ gsi: Int, level: Bool) {
        if level && !levels[gsi] { edges[gsi] += 1 }
        levels[gsi] = level
    }

    func setIRQ(_ irq: Int, level: Bool) { setGSI(irq, level: level) }

    func line(_ gsi: Int) -> IRQLine { router.line(gsi) }
}
