import Foundation
import CKVM

/// VMTUI_KVM_STATS=1: one vCPU's exits counted and timed, a line on stderr about every second
/// (where Virtualize's time goes: in the guest, waiting for the machine lock, or handling exits).
struct KVMExitStats {
    static let enabled = getenv("VMTUI_KVM_STATS") != nil

    private var exits = 0, portIO = 0, mmio = 0, interrupted = 0, other = 0
    private var inRun: UInt64 = 0, lockWait: UInt64 = 0, handling: UInt64 = 0
    private var lastLine = HostClock.monotonicNow()
    private var handlingSince: UInt64 = 0

    /// Just before KVM_RUN (the lock about to be let go).
    mutating func entering(_ now: UInt64) {
        if handlingSince != 0 { handling &+= now &- handlingSince }
    }

    /// After KVM_RUN returned at `returned` and the lock was taken again at `locked`.
    mutating func exited(reason: Int32?, entered: UInt64, returned: UInt64, locked: UInt64, vcpu: Int) {
        exits += 1
        switch reason {
        case KVM_EXIT_IO: portIO += 1
        case KVM_EXIT_MMIO: mmio += 1
        case nil: interrupted += 1
        default: other += 1
        }
        inRun &+= returned &- entered
        lockWait &+= locked &- returned
        handlingSince = locked
        guard locked &- lastLine >= 1_000_000_000 else { return }
        lastLine = locked
        func ms(_ ns: UInt64) -> String { String(ns / 1_000_000) }
        let perExit = exits > 0 ? (inRun + lockWait + handling) / UInt64(exits) / 1000 : 0
        KVMVCPU.traceLine("kvm stats vCPU \(vcpu): \(exits) exits (io \(portIO), mmio \(mmio), signal \(interrupted), other \(other)), "
            + "ms in KVM_RUN \(ms(inRun)), waiting for the lock \(ms(lockWait)), handling \(ms(handling)); \(perExit) us per exit")
    }
}
