import Testing
import Engine

@Suite struct SerialScrollbackTests {
    func feed(_ text: String, maxLines: Int = 100) -> SerialScrollback {
        var s = SerialScrollback(maxLines: maxLines)
        s.append(Array(text.utf8))
        return s
    }

    @Test func linesCarriageReturnAndBackspace() {
        let s = feed("boot\r\nlogin: roox\u{8}t\r\npassword:\rPASS")
        #expect(s.text == "boot\nlogin: root\nPASSword:")
        #expect(s.lineCount == 3)
    }

    @Test func tabsAndEscapeSequences() {
        let s = feed("a\tb\u{1B}[1;32mgreen\u{1B}[0m\u{1B}7!")
        #expect(s.text == "a       bgreen!")
    }

    @Test func utf8SurvivesPerLine() {
        #expect(feed("größe ✓\n").tail(2) == ["größe ✓", ""])
    }

    @Test func scrollbackKeepsTheNewestLines() {
        let s = feed((1...10).map { "line \($0)" }.joined(separator: "\n"), maxLines: 4)
        #expect(s.tail(10) == ["line 7", "line 8", "line 9", "line 10"])
        #expect(s.tail(2, scrolledBack: 1) == ["line 8", "line 9"])
        #expect(s.totalLines == 10)
        #expect(s.tail(3, scrolledBack: 9).isEmpty)
    }
}
