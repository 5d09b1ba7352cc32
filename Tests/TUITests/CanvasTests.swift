import Testing
@testable import TUI

let plain = CellStyle(foreground: -1, background: -1)

@Test func boxAndTextLandInCells() {
    let canvas = Canvas(width: 12, height: 3)
    canvas.box(canvas.bounds, style: plain, title: "hi")
    #expect(canvas.row(0) == "┌ hi ──────┐")
    #expect(canvas.row(1) == "│          │")
    #expect(canvas.row(2) == "└──────────┘")
}

@Test func textIsClippedAndControlCharactersAreReplaced() {
    let canvas = Canvas(width: 6, height: 1)
    let used = canvas.text("ab\u{7}cdefgh", x: 1, y: 0, style: plain)
    #expect(used == 5)
    #expect(canvas.row(0) == " ab?cd")
}

@Test func wideCharactersTakeTwoCells() {
    let canvas = Canvas(width: 6, height: 1)
    #expect(canvas.text("日本x", x: 0, y: 0, style: plain) == 5)
    #expect(canvas[1, 0].scalar == Cell.continuation)
    #expect(canvas.row(0) == "日本x ")
    // A wide character that does not fit whole is left out.
    #expect(canvas.text("ab日", x: 3, y: 0, style: plain) == 2)
}

@Test func wrapsAtSpacesAndSplitsLongWords() {
    #expect(TextWrap.lines("one two three", width: 7) == ["one two", "three"])
    #expect(TextWrap.lines("abcdefghij", width: 4) == ["abcd", "efgh", "ij"])
    #expect(TextWrap.lines("a\nb", width: 4) == ["a", "b"])
    #expect(TextWrap.lines("/usr/lib/memtest86+/memtest86+ia32.iso", width: 30) == ["/usr/lib/memtest86+/", "memtest86+ia32.iso"])
}

@Test func fieldsStayWholeWhereTheyFit() {
    let state = "running  up 0:00:28  1 CPU  194.9 MIPS  engine CPU 100%"
    #expect(TextWrap.fieldLines(state, width: 50) == ["running  up 0:00:28  1 CPU  194.9 MIPS", "engine CPU 100%"])
    #expect(TextWrap.fieldLines(state, width: 60) == [state])
    // A field wider than the line is word-wrapped; text without fields wraps as `lines` does.
    #expect(TextWrap.fieldLines("a  one two three", width: 7) == ["a", "one two", "three"])
    #expect(TextWrap.fieldLines("one two three", width: 7) == TextWrap.lines("one two three", width: 7))
}

@Test func decodesKeys() {
    #expect(KeyDecoder.decode(isKeyCode: false, value: 0x1B) == .escape)
    #expect(KeyDecoder.decode(isKeyCode: false, value: 0x0D) == .enter)
    #expect(KeyDecoder.decode(isKeyCode: false, value: 0x03) == .ctrl("c"))
    #expect(KeyDecoder.decode(isKeyCode: false, value: 0x7F) == .backspace)
    #expect(KeyDecoder.decode(isKeyCode: false, value: 0xE9) == .char("é"))
    #expect(KeyDecoder.decode(isKeyCode: true, value: 0o403) == .up)
    #expect(KeyDecoder.decode(isKeyCode: true, value: 0o632) == .resize)
    #expect(KeyDecoder.decode(isKeyCode: true, value: 0o410 + 5) == .function(5))
}

@Test func asciiFallbackKeepsBoxesReadable() {
    let canvas = Canvas(width: 8, height: 2)
    canvas.box(canvas.bounds, style: plain, title: "é")
    let ascii = String(String.UnicodeScalarView(canvas.cells.prefix(8).map { ASCIIFallback.character($0.scalar) }))
    #expect(ascii == "+ ? ---+")
}
