import Testing
@testable import Engine

@Suite struct SmallDeviceTests {
    @Test func fwCfgSignatureIDAndDirectory() {
        let cfg = FwCfg()
        cfg.addFile("etc/e820", FwCfg.e820([(0, 0x0800_0000, 1)]))
        cfg.addFile("bootorder", Array("/x".utf8) + [0])
        func select(_ key: UInt16) { cfg.portWrite(0x510, width: 2, value: UInt32(key)) }
        func bytes(_ n: Int) -> [UInt8] { (0..<n).map { _ in UInt8(cfg.portRead(0x511, width: 1)) } }
        select(0)
        #expect(bytes(4) == Array("QEMU".utf8))
        select(1)
        #expect(bytes(4) == [1, 0, 0, 0])
        select(0x19)
        let dir = bytes(4 + 2 * 64)
        #expect(dir[0..<4] == [0, 0, 0, 2])
        // Sorted: bootorder first (key 0x20), etc/e820 second (key 0x21).
        #expect(String(decoding: dir[12..<21], as: UTF8.self) == "bootorder")
        #expect(dir[4 + 64 + 3] == 20 && dir[4 + 64 + 5] == 0x21)
        select(0x21)
        #expect(bytes(20) == FwCfg.e820([(0, 0x0800_0000, 1)]))
        #expect(bytes(2) == [0, 0]) // past the end
        select(0x0E)
        #expect(bytes(2) == [0, 0]) // no boot menu
    }

    @Test func port92ReadsItsLatchAndResetsOnRisingBit0() throws {
        let memory = try MemoryMap(ramSize: 1 << 20)
        let port = SystemControlPortA(memory: memory)
        var resets = 0
        port.onReset = { resets += 1 }
        port.reset()
        #expect(port.portRead(0x92, width: 1) == 0)
        port.portWrite(0x92, width: 1, value: 0x02)
        #expect(port.portRead(0x92, width: 1) == 0x02 && memory.a20Enabled)
        port.portWrite(0x92, width: 1, value: 0x00)
        #expect(!memory.a20Enabled)
        port.portWrite(0x92, width: 1, value: 0x03)
        port.portWrite(0x92, width: 1, value: 0x03)
        #expect(resets == 1)
    }

    @Test func debugConsoleAnswersE9AndLogs() {
        var seen: [UInt8] = []
        let con = DebugConsole { seen.append($0) }
        #expect(con.portRead(0x402, width: 1) == 0xE9)
        for b in "ok\n".utf8 { con.portWrite(0x402, width: 1, value: UInt32(b)) }
        #expect(con.text == "ok\n" && seen == Array("ok\n".utf8))
    }

    @Test func debugExitReportsQEMUStyleStatus() {
        let port = DebugExitPort()
        var code: Int32?
        port.onExit = { code = $0 }
        port.portWrite(0xF4, width: 1, value: 0x10)
        #expect(code == 0x21)
    }
}
