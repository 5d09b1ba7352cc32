import Testing
@testable import Engine

@Test func lettersAndShiftedSymbolsMapToUSKeys() {
    #expect(GuestKeyStroke(typing: "a") == GuestKeyStroke(.a))
    #expect(GuestKeyStroke(typing: "A") == GuestKeyStroke(.a, shift: true))
    #expect(GuestKeyStroke(typing: "!") == GuestKeyStroke(.digit1, shift: true))
    #expect(GuestKeyStroke(typing: "\r") == GuestKeyStroke(.enter))
    #expect(GuestKeyStroke(typing: "\u{7F}") == GuestKeyStroke(.backspace))
    #expect(GuestKeyStroke(typing: "\u{03}") == GuestKeyStroke(.c, ctrl: true))
    #expect(GuestKeyStroke(typing: "é") == nil)
}

@Test func shiftedLetterWrapsKeyInShiftMakeAndBreak() {
    // Set 1: LShift make, A make, A break, LShift break.
    #expect(GuestKeyStroke(.a, shift: true).set1Bytes == [0x2A, 0x1E, 0x9E, 0xAA])
    // Set 2: 12, 1C, F0 1C, F0 12.
    #expect(GuestKeyStroke(.a, shift: true).set2Bytes == [0x12, 0x1C, 0xF0, 0x1C, 0xF0, 0x12])
}

@Test func extendedKeysCarryE0Prefix() {
    #expect(GuestKey.up.set1Bytes(pressed: true) == [0xE0, 0x48])
    #expect(GuestKey.up.set1Bytes(pressed: false) == [0xE0, 0xC8])
    #expect(GuestKey.delete.set2Bytes(pressed: false) == [0xE0, 0xF0, 0x71])
    #expect(GuestKeyStroke(.delete, ctrl: true, alt: true).set1Bytes ==
            [0x1D, 0x38, 0xE0, 0x53, 0xE0, 0xD3, 0xB8, 0x9D])
}

@Test func everyKeyHasDistinctCodesWithinItsPrefixClass() {
    for extended in [false, true] {
        let keys = GuestKey.allCases.filter { $0.isExtended == extended && $0 != .rightCtrl && $0 != .rightAlt }
        #expect(Set(keys.map(\.set1)).count == keys.count)
        #expect(Set(keys.map(\.set2)).count == keys.count)
        #expect(keys.allSatisfy { $0.set1 < 0x80 })
    }
}
