import Testing
@testable import Engine

@Test func textScreenRendersPrintableCharactersAndDotsForTheRest() {
    var screen = TextScreen(columns: 80, rows: 25)
    for (i, b) in "SeaBIOS".utf8.enumerated() { screen.cells[80 + i] = 0x0700 | UInt16(b) }
    screen.cells[80 + 7] = 0x07C4  // CP437 box drawing: not ASCII
    #expect(screen.line(1).hasPrefix("SeaBIOS."))
    #expect(screen.contains("SeaBIOS"))
    #expect(!screen.contains("Booting"))
}
