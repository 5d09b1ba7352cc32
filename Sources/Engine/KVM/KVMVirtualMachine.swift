import CKVM
import Foundation

/// One KVM virtual machine: the VM fd, its split irqchip (the local APICs in the kernel; the
/// PIC and IOAPIC are our device models, as QEMU's kernel-irqchip=split) and its memory slots,
/// which follow `MemoryMap`'s host-backed regions (RAM read-write; ROM and write-protected
/// shadow RAM as read-only slots, so code runs from them; everything else exits as MMIO).
public final class KVMVirtualMachine: MemoryRegionListener, MSISink {
    public let system: KVMSystem
    let fd: Int32
    /// Routes of the split irqchip: the IOAPIC's 24 pins.
    static let irqRoutes: UInt64 = 24
    /// Where KVM on Intel keeps its real-mode TSS (three pages) and identity page table (one
    /// page), as QEMU: below the BIOS, above the local APIC, in no RAM or ROM of ours.
    static let identityMapAddress: UInt64 = 0xFEFF_C000

    private var slots: [UInt32: GuestMemoryRegion] = [:]
    /// The first slot change that failed; the vCPUs report it instead of running on a wrong map.
    public private(set) var slotError: String?
    /// A guest's EOI of a level-triggered vector our IOAPIC routed (KVM_EXIT_IOAPIC_EOI, on the
    /// vCPU's thread, machine lock held).
    var onIOAPICEOI: (UInt8) -> Void = { _ in }

    public init(system: KVMSystem) throws {
        self.system = system
        let vm = ckvm_ioctl_value(system.fd, ckvm_create_vm(), 0)
        guard vm >= 0 else {
            throw errno == EBUSY ? KVMError.unavailable(.busy) : KVMError.failed("KVM_CREATE_VM")
        }
        fd = vm
        do {
            // Before any vCPU exists, or KVM refuses the split irqchip.
            var cap = kvm_enable_cap()
            cap.cap = UInt32(KVM_CAP_SPLIT_IRQCHIP)
            cap.args.0 = KVMVirtualMachine.irqRoutes
            guard ckvm_ioctl(fd, ckvm_enable_cap(), &cap) == 0 else { throw KVMError.failed("KVM_ENABLE_CAP(KVM_CAP_SPLIT_IRQCHIP)") }
            // Intel only (real mode through vm86 and unpaged mode through an identity map);
            // AMD accepts and ignores them, so they cannot be tested in the nested SVM host.
            var identity = KVMVirtualMachine.identityMapAddress
            guard ckvm_ioctl(fd, ckvm_set_identity_map_addr(), &identity) == 0 else { throw KVMError.failed("KVM_SET_IDENTITY_MAP_ADDR") }
            guard ckvm_ioctl_value(fd, ckvm_set_tss_addr(), UInt(identity + 0x1000)) == 0 else { throw KVMError.failed("KVM_SET_TSS_ADDR") }
        } catch {
            close(fd)
            throw error
        }
    }

    deinit { close(fd) }

    /// A device's or the IOAPIC's interrupt message, to the in-kernel local APICs.
    public func deliverMSI(_ message: MSIMessage) {
        var msi = kvm_msi()
        msi.address_lo = UInt32(truncatingIfNeeded: message.address)
        msi.address_hi = UInt32(truncatingIfNeeded: message.address >> 32)
        msi.data = message.data
        // 0: no APIC took it (a guest's bad destination); < 0: nothing to be done from here.
        _ = ckvm_ioctl(fd, ckvm_signal_msi(), &msi)
    }

    /// The IOAPIC's unmasked entries as MSI routes (GSI = pin), as QEMU's split irqchip does:
    /// KVM learns from them which vectors are level-triggered IOAPIC ones and exits with
    /// KVM_EXIT_IOAPIC_EOI when a local APIC ends one. Without them a level line fires once.
    public func setRoutes(_ routes: [(pin: Int, message: MSIMessage)]) throws {
        guard let table = ckvm_irq_routing_alloc(UInt32(routes.count)) else { throw KVMError("out of memory for GSI routes") }
        defer { free(table) }
        for (i, route) in routes.enumerated() {
            ckvm_irq_routing_set_msi(table, UInt32(i), UInt32(route.pin), route.message.address, route.message.data)
        }
        guard ckvm_ioctl(fd, ckvm_set_gsi_routing(), table) == 0 else { throw KVMError.failed("KVM_SET_GSI_ROUTING") }
    }

    /// Makes the memory slots follow `memory`'s regions from now on.
    public func attach(_ memory: MemoryMap) throws {
        memory.addRegionListener(self)
        if let slotError { throw KVMError(slotError) }
    }

    /// Deletes the slots whose region changed, then adds the new ones (KVM refuses overlapping
    /// slots). Called with the vCPUs out of the guest: a slot being replaced is briefly absent.
    public func memoryRegionsChanged(_ regions: [GuestMemoryRegion]) {
        for (slot, region) in slots where !regions.contains(region) {
            guard setSlot(slot, region, size: 0) else { return }
            slots[slot] = nil
        }
        var free: UInt32 = 0
        for region in regions where !slots.values.contains(region) {
            while slots[free] != nil { free += 1 }
            guard region.guestPhysical & 0xFFF == 0, region.size & 0xFFF == 0, UInt(bitPattern: region.host) & 0xFFF == 0 else {
                slotError = "guest memory at \(hex(region.guestPhysical)) is not page-aligned in the host; KVM cannot map it"
                return
            }
            guard setSlot(free, region, size: region.size) else { return }
            slots[free] = region
        }
    }

    private func setSlot(_ slot: UInt32, _ region: GuestMemoryRegion, size: UInt64) -> Bool {
        var r = kvm_userspace_memory_region()
        r.slot = slot
        r.flags = region.readOnly && size != 0 ? UInt32(KVM_MEM_READONLY) : 0
        r.guest_phys_addr = region.guestPhysical
        r.memory_size = size
        r.userspace_addr = UInt64(UInt(bitPattern: region.host))
        if ckvm_ioctl(fd, ckvm_set_user_memory_region(), &r) == 0 { return true }
        slotError = KVMError.failed("KVM_SET_USER_MEMORY_REGION (slot \(slot) at \(hex(region.guestPhysical)), "
                                    + "\(region.size / 1024) KiB\(region.readOnly ? ", read-only" : ""))").description
        return false
    }

    private func hex(_ value: UInt64) -> String { "0x" + String(value, radix: 16, uppercase: true) }
}
