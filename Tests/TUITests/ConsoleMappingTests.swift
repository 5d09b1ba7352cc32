import Testing
@testable import TUI

@Test func cp437MapsBoxDrawingShadesAndAccents() {
    #expect(CP437.unicode.count == 256)
    #expect(CP437.ascii.count == 256)
    #expect(CP437.character(0x41, utf8: true) == "A")
    #expect(CP437.character(0xC9, utf8: true) == "╔")
    #expect(CP437.character(0xCD, utf8: true) == "═")
    #expect(CP437.character(0xB3, utf8: true) == "│")
    #expect(CP437.character(0xB0, utf8: true) == "░")
    #expect(CP437.character(0xDB, utf8: true) == "█")
    #expect(CP437.character(0x82, utf8: true) == "é")
    #expect(CP437.character(0x1A, utf8: true) == "→")
    #expect(CP437.character(0xE1, utf8: true) == "ß")
    #expect(CP437.character(0xFE, utf8: true) == "■")
}

@Test func cp437AsciiFallbackStaysPrintable() {
    for byte in 0...255 {
        let c = CP437.ascii[byte]
        #expect(c >= 0x20 && c < 0x7F, "byte \(byte) falls back to \(c)")
    }
    #expect(CP437.character(0xC9, utf8: false) == "#" || CP437.character(0xC9, utf8: false) == "+")
    #expect(CP437.character(0xC4, utf8: false) == "-")
    #expect(CP437.character(0xB3, utf8: false) == "|")
    #expect(CP437.character(0x82, utf8: false) == "e")
}

@Test(arguments: [ColorDepth.colors256, .colors16, .colors8])
func vgaBlueIsCursesBlue(depth: ColorDepth) {
    // 0x1F: bright white on blue, the classic BIOS setup look.
    let style = VGAPalette.style(attribute: 0x1F, depth: depth, blinkEnabled: true)
    switch depth {
    case .colors256: #expect(style.foreground == 231 && style.background == 19)
    case .colors16: #expect(style.foreground == 15 && style.background == 4)
    default: #expect(style.foreground == 7 && style.background == 4 && style.bold)
    }
}

@Test func blinkBitIsBlinkOrBrightBackground() {
    let blinking = VGAPalette.style(attribute: 0xC7, depth: .colors16, blinkEnabled: true)
    #expect(blinking.blink && blinking.background == 1)       // red background, blinking
    let bright = VGAPalette.style(attribute: 0xC7, depth: .colors16, blinkEnabled: false)
    #expect(!bright.blink && bright.background == 9)          // bright red background
}

@Test func monochromeReversesLightBackgrounds() {
    let selection = VGAPalette.style(attribute: 0x70, depth: .monochrome, blinkEnabled: true)
    #expect(selection.reverse && !selection.bold)
    let plain = VGAPalette.style(attribute: 0x07, depth: .monochrome, blinkEnabled: true)
    #expect(!plain.reverse && !plain.bold && plain.foreground == -1)
    let bright = VGAPalette.style(attribute: 0x0F, depth: .monochrome, blinkEnabled: true)
    #expect(bright.bold)
}
