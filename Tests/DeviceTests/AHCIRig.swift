import Foundation
@testable import Engine

/// An AHCI controller on 16 MiB of guest RAM, driven through ABAR as a guest driver would:
/// port 0's command list, FIS receive area and command tables in RAM, on a PCI bus in slot 4
/// (INTA# to PIRQD) with its GSI recorded.
final class AHCIRig {
    static let abar: UInt32 = 0xFEBF_0000
    static let slot = 4
    static let interruptLine = InterruptRouter.pirqBase + PCIBus.pirq(slot: slot, pin: 1)
    static let commandList: UInt64 = 0x10000
    static let fisArea: UInt64 = 0x11000
    static func table(_ slot: Int) -> UInt64 { 0x12000 + UInt64(slot) * 0x400 }

    let memory: MemoryMap
    let ports = PortMap()
    let irqs = IRQRecorder()
    let bus: PCIBus
    let ahci: AHCI
    var stops: [DiskControllerStop] = []

    convenience init(disk: BlockDevice?) throws {
        try self.init(device: disk.map { .disk($0) })
    }

    init(device: AHCIPort.Device?) throws {
        memory = try MemoryMap(ramSize: 16 << 20)
        ahci = AHCI(memory: memory)
        bus = PCIBus(memory: memory, ports: ports, interrupts: irqs.router)
        bus.attach(ahci, device: Self.slot)
        ahci.attach(device, port: 0)
        ahci.reset()
        ahci.onStop = { [unowned self] in stops.append($0) }
        ahci.configWrite(0x10 + 4 * AHCI.barIndex, width: 4, value: Self.abar)
        ahci.configWrite(0x04, width: 2, value: 0x0006) // memory decode, bus master
    }

    func hba(_ offset: Int) -> UInt32 { memory.read(Self.abar + UInt32(offset), width: 4) }
    func setHBA(_ offset: Int, _ value: UInt32) { memory.write(Self.abar + UInt32(offset), width: 4, value: value) }
    func port(_ offset: Int, _ index: Int = 0) -> UInt32 { hba(0x100 + 0x80 * index + offset) }
    func setPort(_ offset: Int, _ value: UInt32, _ index: Int = 0) { setHBA(0x100 + 0x80 * index + offset, value) }

    /// Points port 0 at its command list and FIS area, enables its interrupts and starts it.
    func startPort() {
        setPort(0x00, UInt32(Self.commandList))
        setPort(0x08, UInt32(Self.fisArea))
        setPort(0x18, 0x10) // FRE
        setPort(0x18, 0x11) // FRE | ST
        setPort(0x14, 0xFFFF_FFFF)
        setHBA(0x04, 0x8000_0002) // AE | IE
    }

    func bytes(at address: UInt64, _ count: Int) -> [UInt8] {
        (0..<count).map { UInt8(memory.read(UInt32(address) + UInt32($0), width: 1)) }
    }

    func put(_ bytes: [UInt8], at address: UInt64) {
        for (i, byte) in bytes.enumerated() { memory.write(UInt32(address) + UInt32(i), width: 1, value: UInt32(byte)) }
    }

    /// A register H2D FIS with the command bit set.
    static func fis(_ command: UInt8, lba: UInt64 = 0, count: UInt16 = 0, features: UInt16 = 0) -> [UInt8] {
        var f = [UInt8](repeating: 0, count: 20)
        f[0] = 0x27; f[1] = 0x80; f[2] = command
        f[3] = UInt8(features & 0xFF); f[11] = UInt8(features >> 8)
        for (i, at) in [4, 5, 6, 8, 9, 10].enumerated() { f[at] = UInt8(truncatingIfNeeded: lba >> UInt64(8 * i)) }
        f[7] = 0x40
        f[12] = UInt8(count & 0xFF); f[13] = UInt8(count >> 8)
        return f
    }

    /// An NCQ FIS: sector count in features, tag in count bits 7:3.
    static func queuedFIS(write: Bool, tag: Int, lba: UInt64, sectors: UInt16) -> [UInt8] {
        fis(write ? 0x61 : 0x60, lba: lba, count: UInt16(tag << 3), features: sectors)
    }

    /// Writes the command header and table of `slot`: `fis`, then the PRDT `regions`.
    func prepare(slot: Int, fis: [UInt8], prdt: [(address: UInt64, count: Int)], write: Bool = false,
                 table: UInt64? = nil, packet: [UInt8] = []) {
        let tableAddress = table ?? Self.table(slot)
        let header = Self.commandList + UInt64(slot * 32)
        memory.write(UInt32(header), width: 4, value: 5 | (write ? 0x40 : 0) | UInt32(prdt.count) << 16)
        memory.write(UInt32(header + 4), width: 4, value: 0)
        memory.write(UInt32(header + 8), width: 4, value: UInt32(truncatingIfNeeded: tableAddress))
        memory.write(UInt32(header + 12), width: 4, value: UInt32(truncatingIfNeeded: tableAddress >> 32))
        guard tableAddress < UInt64(memory.ramSize) else { return }
        put(fis, at: tableAddress)
        put(packet, at: tableAddress + 0x40)
        for (i, region) in prdt.enumerated() {
            let entry = tableAddress + 0x80 + UInt64(16 * i)
            memory.write(UInt32(entry), width: 4, value: UInt32(truncatingIfNeeded: region.address))
            memory.write(UInt32(entry + 4), width: 4, value: UInt32(truncatingIfNeeded: region.address >> 32))
            memory.write(UInt32(entry + 12), width: 4, value: UInt32(region.count - 1))
        }
    }

    /// Prepares and issues one command in `slot` (PxCI).
    func issue(slot: Int = 0, _ fis: [UInt8], prdt: [(address: UInt64, count: Int)] = [], write: Bool = false,
               packet: [UInt8] = []) {
        prepare(slot: slot, fis: fis, prdt: prdt, write: write, packet: packet)
        setPort(0x38, 1 << UInt32(slot))
    }

    /// The byte count the HBA wrote back into the command header (PRDBC).
    func transferred(slot: Int) -> UInt32 { memory.read(UInt32(Self.commandList) + UInt32(slot * 32 + 4), width: 4) }

    static func pattern(_ count: Int, seed: Int) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: ($0 &* 31) ^ ($0 >> 9) &+ seed) }
    }
}
