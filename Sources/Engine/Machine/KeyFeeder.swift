/// Host key events waiting for the guest keyboard, given to it at typing pace: one key event
/// (a set-2 make or break code with its E0/F0 prefixes) at a time, once the keyboard's queue is
/// empty and `interval` of machine time has passed since the last one. Handing over a paste or
/// a scripted `--type` at once overflows what guests buffer (the BIOS keeps 15 keys: ISOLINUX
/// at its prompt lost everything after the 15th character).
struct KeyFeeder {
    /// Machine time between two key events: 200 events (about 100 keys) a second at most.
    static let interval: UInt64 = 5_000_000
    private var backlog: [UInt8] = []
    private var next = 0
    private var lastEvent: UInt64?

    var isEmpty: Bool { next == backlog.count }

    mutating func add(_ scancodes: [UInt8]) {
        if isEmpty { backlog = []; next = 0 }
        backlog += scancodes
    }

    /// Drops what was not typed yet (a reset).
    mutating func clear() { self = KeyFeeder() }

    /// Gives the keyboard the next event when it is due; true when it did.
    @discardableResult
    mutating func feed(_ machine: Machine) -> Bool {
        guard !isEmpty, !machine.keyboardController.keyboard.hasOutput else { return false }
        let now = machine.clock.nanoseconds
        if let last = lastEvent, now &- last < KeyFeeder.interval { return false }
        var end = next
        while end < backlog.count, backlog[end] == 0xE0 || backlog[end] == 0xF0 { end += 1 }
        end = min(end + 1, backlog.count)
        machine.inject(scancodes: Array(backlog[next..<end]))
        next = end
        lastEvent = now
        return true
    }
}
