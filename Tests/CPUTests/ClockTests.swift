import Testing
@testable import Engine

final class OneShot: TimedDevice {
    var deadline: UInt64? = 1_000
    var fired = 0
    func nextDeadline() -> UInt64? { deadline }
    func fire(now: UInt64) { fired += 1; deadline = nil }
}

@Test func schedulerFiresOnlyDueDevices() {
    let clock = ManualClock()
    let scheduler = Scheduler(clock: clock)
    let device = OneShot()
    scheduler.add(device)
    #expect(scheduler.nextDeadline() == 1_000)
    clock.advance(by: 999); scheduler.fireDue()
    #expect(device.fired == 0)
    clock.advance(by: 1); scheduler.fireDue()
    #expect(device.fired == 1)
    #expect(scheduler.nextDeadline() == nil)
}
