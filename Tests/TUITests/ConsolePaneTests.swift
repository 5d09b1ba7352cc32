import Testing
@testable import TUI

/// A 4x2 grid standing in for the engine's TextScreen.
struct FakeScreen: ConsoleContent {
    var columns = 4, rows = 2
    var cursorColumn = 1, cursorRow = 1, cursorVisible = true, blinkEnabled = true
    var cells: [UInt16] = [0x1F41, 0x1FC9, 0x1FCD, 0x1FBB, 0x0720, 0x0720, 0x4E21, 0x8F42]
    func character(column: Int, row: Int) -> UInt8 { UInt8(cells[row * columns + column] & 0xFF) }
    func attribute(column: Int, row: Int) -> UInt8 { UInt8(cells[row * columns + column] >> 8) }
}

@Test func consolePaneDrawsGlyphsColoursAndCursor() {
    let canvas = Canvas(width: 6, height: 3)
    ConsolePane(depth: .colors16, utf8: true).draw(FakeScreen(), on: canvas, x: 1, y: 1)
    #expect(canvas.row(1) == " A╔═╗ ")
    #expect(canvas.row(2) == "   !B ")
    // 0x1F: bright white on blue -> curses 15 on 4; 0x4E: yellow on red -> curses 11 on 1.
    #expect(canvas[1, 1].style == CellStyle(foreground: 15, background: 4))
    #expect(canvas[3, 2].style == CellStyle(foreground: 11, background: 1))
    #expect(canvas[4, 2].style.blink)
    #expect(canvas.cursor?.x == 2 && canvas.cursor?.y == 2)

    let ascii = Canvas(width: 4, height: 2)
    ConsolePane(depth: .monochrome, utf8: false).draw(FakeScreen(), on: ascii, x: 0, y: 0)
    let expected = [0x41, 0xC9, 0xCD, 0xBB].map { Character(Unicode.Scalar(CP437.ascii[$0])) }
    #expect(ascii.row(0) == String(expected))
    #expect(ascii[0, 0].style == CellStyle(foreground: -1, background: -1, bold: true))
}

@Test func cursorShapeFollowsTheGuestsScanLines() {
    struct Cursor: ConsoleContent {
        var columns = 2, rows = 1, cursorColumn = 0, cursorRow = 0, cursorVisible = true, blinkEnabled = true
        var cursorStartLine: Int, cursorEndLine: Int
        func character(column: Int, row: Int) -> UInt8 { 0x20 }
        func attribute(column: Int, row: Int) -> UInt8 { 0x07 }
    }
    let pane = ConsolePane(depth: .colors16, utf8: true)
    for (start, end, block) in [(13, 14, false), (0, 15, true), (6, 7, false), (0, 7, true)] {
        let canvas = Canvas(width: 4, height: 2)
        pane.draw(Cursor(cursorStartLine: start, cursorEndLine: end), on: canvas, x: 0, y: 0)
        #expect(canvas.cursorBlock == block, "scan lines \(start)-\(end)")
    }
}
