import Testing
@testable import TUI

/// A console-like panel that wants every key, Ctrl-C included.
final class CapturingPanel: Panel {
    var keys: [KeyEvent] = []
    var capturesAllKeys: Bool { true }
    func draw(on canvas: Canvas, styles: ThemeStyles) {}
    func handle(_ key: KeyEvent) -> EventResult {
        keys.append(key)
        return key == .char("q") ? .close : .handled
    }
}

@Test func aPanelThatCapturesKeysGetsCtrlC() {
    let app = Application(root: TextViewer(title: "t", lines: []), styles: styles)
    let console = CapturingPanel()
    app.open(console)
    #expect(app.send(.ctrl("c")))
    #expect(app.send(.alt("x")))
    #expect(app.send(.insert))
    #expect(console.keys == [.ctrl("c"), .alt("x"), .insert])
    #expect(app.send(.char("q")))
    #expect(!app.send(.ctrl("c")), "below the console, Ctrl-C quits again")
}

@Test func insertKeyDecodes() {
    #expect(KeyDecoder.keyCode(0o513) == .insert)
}
