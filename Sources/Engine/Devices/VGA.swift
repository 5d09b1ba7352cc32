/// QEMU's "std VGA" (PCI 00:02.0, 1234:1111) as far as a text console needs (PLATFORM-NOTES
/// §3.4, §5): the VGA register file with 16-bit index/data OUT splitting, the Bochs DISPI
/// registers at 0x1CE/0x1CF, a 64 KiB ROM BAR serving the VGA BIOS, a 16 MiB BAR0 (unbacked),
/// and 0xA0000-0xBFFFF as one flat 128 KiB window (the text buffer at 0xB8000, the font
/// SeaVGABIOS loads at 0xA0000 out of its way). `screen()` renders the TextScreen snapshot.
public final class VGA: PortDevice, PCIFunction {
    public let config = PCIConfigSpace(vendor: 0x1234, device: 0x1111, revision: 0x02, classCode: 0x03_00_00)
    private let memory: MemoryMap
    private let rom: HostBuffer
    /// The legacy window 0xA0000-0xBFFFF.
    public let vram = HostBuffer(count: 0x20000)

    private var misc: UInt8 = 0
    private var sequencer = [UInt8](repeating: 0, count: 8)
    private var sequencerIndex = 0
    private var graphics = [UInt8](repeating: 0, count: 16)
    private var graphicsIndex = 0
    private var crtc = [UInt8](repeating: 0, count: 32)
    private var crtcIndex = 0
    private var attribute = [UInt8](repeating: 0, count: 32)
    /// Index register of 0x3C0 including bit 5 (palette address source: video enabled).
    private var attributeIndex: UInt8 = 0
    private var attributeFlipFlop = false
    private var dac = [UInt8](repeating: 0, count: 768)
    private var dacReadIndex = 0
    private var dacWriteIndex = 0
    private var dacPelMask: UInt8 = 0xFF
    private var dispi = [UInt16](repeating: 0, count: 16)
    private var dispiIndex = 0

    static let dispiID: UInt16 = 0xB0C5
    /// VRAM advertised through DISPI register 0x0A, in 64 KiB units (16 MiB, as QEMU).
    static let vramUnits: UInt16 = 0x0100
    static let maxWidth: UInt16 = 16000, maxBPP: UInt16 = 32

    public init(memory: MemoryMap, romImage: [UInt8]) {
        self.memory = memory
        rom = HostBuffer(count: 0x10000, bytes: romImage)
        // The PCI bus maps the ROM BAR (read-only, while enabled and memory decoding is on).
        config.defineMemoryBAR(0, size: 16 << 20, handler: nil, prefetchable: true)
        config.defineROM(rom)
        reset()
    }

    public func reset() {
        misc = 0
        sequencer = [UInt8](repeating: 0, count: 8)
        graphics = [UInt8](repeating: 0, count: 16)
        crtc = [UInt8](repeating: 0, count: 32)
        attribute = [UInt8](repeating: 0, count: 32)
        attributeIndex = 0
        attributeFlipFlop = false
        dispi = [UInt16](repeating: 0, count: 16)
        dispi[0] = 0xB0C0
        dispiIndex = 0
        memory.setPages(from: 0xA0000, size: 0x20000, readFrom: vram.pointer, writeTo: vram.pointer)
        config.resetHeader()
    }

    /// Port ranges the machine registers for this device.
    public static let portRanges: [ClosedRange<UInt16>] = [0x3B0...0x3DF, 0x1CE...0x1CF]

    // MARK: Ports

    /// 0x3Bx ports answer only in monochrome mode, 0x3Dx only in colour mode (misc bit 0).
    private func ignored(_ port: UInt16) -> Bool {
        (0x3B0...0x3BF).contains(port) && misc & 1 != 0 || (0x3D0...0x3DF).contains(port) && misc & 1 == 0
    }

    public func portRead(_ port: UInt16, width: Int) -> UInt32 {
        if width == 2 && port != 0x1CE && port != 0x1CF {
            return readByte(port) | readByte(port + 1) << 8
        }
        if port == 0x1CE { return UInt32(dispiIndex) }
        if port == 0x1CF { return UInt32(readDISPI()) }
        return readByte(port)
    }

    public func portWrite(_ port: UInt16, width: Int, value: UInt32) {
        if port == 0x1CE || port == 0x1CF {
            if port == 0x1CE { dispiIndex = Int(value & 0xFFFF) } else { writeDISPI(UInt16(value & 0xFFFF)) }
            return
        }
        // A 16-bit OUT to an index port is index then data (QEMU splits it the same way).
        writeByte(port, UInt8(value & 0xFF))
        if width >= 2 { writeByte(port + 1, UInt8((value >> 8) & 0xFF)) }
    }

    private func readByte(_ port: UInt16) -> UInt32 {
        if ignored(port) { return 0xFF }
        switch port {
        case 0x3C0: return UInt32(attributeIndex)
        case 0x3C1: return UInt32(attribute[Int(attributeIndex & 0x1F)])
        case 0x3C2: return 0x10
        case 0x3C4: return UInt32(sequencerIndex)
        case 0x3C5: return UInt32(sequencer[sequencerIndex & 7])
        case 0x3C6: return UInt32(dacPelMask)
        case 0x3C7: return 0
        case 0x3C8: return UInt32(dacWriteIndex / 3)
        case 0x3C9:
            let v = dac[dacReadIndex]
            dacReadIndex = (dacReadIndex + 1) % 768
            return UInt32(v)
        case 0x3CC: return UInt32(misc)
        case 0x3CE: return UInt32(graphicsIndex)
        case 0x3CF: return UInt32(graphics[graphicsIndex & 15])
        case 0x3B4, 0x3D4: return UInt32(crtcIndex)
        case 0x3B5, 0x3D5: return UInt32(crtc[crtcIndex & 31])
        case 0x3BA, 0x3DA:
            attributeFlipFlop = false
            // Toggle retrace bits so polling loops finish.
            statusToggle.toggle()
            return statusToggle ? 0x09 : 0x00
        default: return 0xFF
        }
    }

    private var statusToggle = false

    private func writeByte(_ port: UInt16, _ value: UInt8) {
        if ignored(port) { return }
        switch port {
        case 0x3C0:
            if attributeFlipFlop {
                let i = Int(attributeIndex & 0x1F)
                if i < 0x15 { attribute[i] = value }
            } else {
                attributeIndex = value & 0x3F
            }
            attributeFlipFlop.toggle()
        case 0x3C2: misc = value
        case 0x3C4: sequencerIndex = Int(value & 7)
        case 0x3C5: sequencer[sequencerIndex & 7] = value
        case 0x3C6: dacPelMask = value
        case 0x3C7: dacReadIndex = Int(value) * 3
        case 0x3C8: dacWriteIndex = Int(value) * 3
        case 0x3C9:
            dac[dacWriteIndex] = value & 0x3F
            dacWriteIndex = (dacWriteIndex + 1) % 768
        case 0x3CE: graphicsIndex = Int(value & 15)
        case 0x3CF: graphics[graphicsIndex & 15] = value
        case 0x3B4, 0x3D4: crtcIndex = Int(value & 31)
        case 0x3B5, 0x3D5:
            // CR11 bit 7 write-protects CR0-CR7 (except the line compare bit of CR7).
            if crtcIndex <= 7 && crtc[0x11] & 0x80 != 0 {
                if crtcIndex == 7 { crtc[7] = (crtc[7] & ~0x10) | (value & 0x10) }
                return
            }
            crtc[crtcIndex & 31] = value
        default: break
        }
    }

    // MARK: Bochs DISPI

    private func readDISPI() -> UInt16 {
        switch dispiIndex {
        case 0x0A: return VGA.vramUnits
        case 1 where dispi[4] & 0x02 != 0: return VGA.maxWidth
        case 2 where dispi[4] & 0x02 != 0: return 12000
        case 3 where dispi[4] & 0x02 != 0: return VGA.maxBPP
        case 0...9: return dispi[dispiIndex]
        default: return 0
        }
    }

    private func writeDISPI(_ value: UInt16) {
        switch dispiIndex {
        case 0:
            if (0xB0C0...VGA.dispiID).contains(value) { dispi[0] = value }
        case 4:
            dispi[4] = value & 0xE3
        case 1...9:
            dispi[dispiIndex] = value
        default: break
        }
    }

    // MARK: Snapshot

    /// What the display shows now: text cells, a graphics notice, or blank.
    public func screen() -> TextScreen {
        if dispi[4] & 0x01 != 0 {
            var s = TextScreen()
            s.mode = .graphics(width: Int(dispi[1]), height: Int(dispi[2]), bitsPerPixel: Int(dispi[3]))
            return s
        }
        let columns = Int(crtc[0x01]) + 1
        let verticalEnd = Int(crtc[0x12]) | Int(crtc[0x07] & 0x02) << 7 | Int(crtc[0x07] & 0x40) << 3
        let cellHeight = Int(crtc[0x09] & 0x1F) + 1
        guard crtc[0x01] != 0, verticalEnd != 0 else { // not programmed yet
            var s = TextScreen()
            s.mode = .blank
            return s
        }
        if graphics[6] & 0x01 != 0 {
            var s = TextScreen()
            let doubleScan = crtc[0x09] & 0x80 != 0 ? 2 : 1
            let bpp = graphics[5] & 0x40 != 0 ? 8 : (graphics[5] & 0x20 != 0 ? 2 : 4)
            let width = (columns * 8) / (bpp == 8 ? 2 : 1)
            s.mode = .graphics(width: width, height: (verticalEnd + 1) / cellHeight / doubleScan, bitsPerPixel: bpp)
            return s
        }
        let rows = max(1, (verticalEnd + 1) / cellHeight)
        var s = TextScreen(columns: columns, rows: rows)
        let base: Int
        switch (graphics[6] >> 2) & 3 {
        case 2: base = 0x10000
        case 3: base = 0x18000
        default: base = 0
        }
        let start = Int(crtc[0x0C]) << 8 | Int(crtc[0x0D])
        let window = base == 0 ? 0x20000 : 0x8000
        for i in 0..<(columns * rows) {
            let offset = base + ((start + i) * 2) % window
            s.cells[i] = UInt16(vram[offset]) | UInt16(vram[offset + 1]) << 8
        }
        let cursor = (Int(crtc[0x0E]) << 8 | Int(crtc[0x0F])) - start
        s.cursorVisible = crtc[0x0A] & 0x20 == 0 && cursor >= 0 && cursor < columns * rows
        s.cursorColumn = max(0, cursor) % columns
        s.cursorRow = min(rows - 1, max(0, cursor) / columns)
        s.cursorStartLine = Int(crtc[0x0A] & 0x1F)
        s.cursorEndLine = Int(crtc[0x0B] & 0x1F)
        s.blinkEnabled = attribute[0x10] & 0x08 != 0
        return s
    }
}
