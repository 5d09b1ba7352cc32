import Testing
@testable import TUI

let styles = Theme.builtInDefault.resolved(for: .colors16)

@Test func textFieldEditsAtTheCursor() {
    let field = TextField(label: "Name")
    for c in "N" { _ = field.handle(.char(c)) }
    _ = field.handle(.backspace)
    #expect(field.text == "" && field.cursor == 0)
    for c in "br0" { _ = field.handle(.char(c)) }
    _ = field.handle(.left)
    _ = field.handle(.char("X"))
    #expect(field.text == "brX0" && field.cursor == 3)
    _ = field.handle(.delete)
    #expect(field.text == "brX")
    field.text = "abc"
    #expect(field.cursor == 3)
    let canvas = Canvas(width: 20, height: 2)
    field.draw(on: canvas, in: Rect(x: 0, y: 0, width: 20, height: 1), focused: true, styles: styles, base: .dialog)
    #expect(canvas.cursor?.x == 3)
}

@Test func textFieldCompletesLikeAShell() {
    let field = TextField(label: "ISO") { text in ["/isos/debian.iso", "/isos/dos.iso", "/isos/memtest.iso"].filter { $0.hasPrefix(text) } }
    field.text = "/isos/d"
    #expect(field.handle(.tab))  // both d* shown, nothing more to add
    #expect(field.candidates.count == 2)
    _ = field.handle(.char("e"))
    #expect(field.handle(.tab))
    #expect(field.text == "/isos/debian.iso")
    #expect(!field.handle(.tab))  // complete already: Tab moves on
}

@Test func numberFieldEnforcesItsRange() {
    let field = NumberField(label: "Memory", value: 128, range: 4...1024, unit: "MiB", step: 64)
    _ = field.handle(.right)
    #expect(field.value == 192)
    for _ in 0..<3 { _ = field.handle(.backspace) }
    for c in "4096" { _ = field.handle(.char(c)) }
    #expect(field.value == 4096 && !field.isInRange)
    let canvas = Canvas(width: 40, height: 1)
    field.draw(on: canvas, in: Rect(x: 0, y: 0, width: 40, height: 1), focused: false, styles: styles, base: .dialog)
    #expect(canvas.row(0).contains("out of range"))
}

@Test func listViewScrollsToKeepTheSelectionVisible() {
    let list = ListView(count: 10)
    let canvas = Canvas(width: 10, height: 3)
    let draw = { list.draw(on: canvas, in: canvas.bounds, normal: plain, selection: plain) { index, _ in "item \(index)" } }
    draw()
    for _ in 0..<5 { _ = list.handle(.down) }
    draw()
    #expect(list.selected == 5)
    #expect(canvas.row(2).hasPrefix("item 5"))
    _ = list.handle(.home)
    draw()
    #expect(canvas.row(0).hasPrefix("item 0"))
}

final class NameStep: WizardStep {
    let heading = "Name?"
    let field = TextField(label: "Name")
    lazy var form = Form(fields: [field])
    var stored: String?
    func enter() {}
    func update() {}
    func commit() -> String? {
        if field.text.isEmpty { return "type a name" }
        stored = field.text
        return nil
    }
}

@Test func wizardValidatesEachStepAndFinishesOrCancels() {
    let first = NameStep(), second = NameStep()
    var finished = false, cancelled = false
    let wizard = Wizard(title: "New", steps: [first, second], onFinish: { finished = true; return nil },
                        onCancel: { cancelled = true })
    #expect(kind(wizard.handle(.enter)) == "handled")
    #expect(wizard.error == "type a name" && wizard.index == 0)
    _ = wizard.handle(.char("a"))
    _ = wizard.handle(.enter)
    #expect(wizard.index == 1 && first.stored == "a")
    let canvas = Canvas(width: 80, height: 24)
    wizard.draw(on: canvas, styles: styles)
    #expect(canvas.text.contains("New ─ 2 of 2"))
    #expect(canvas.text.contains("[ Back ]  [ Create ]  [ Cancel ]"))
    _ = wizard.handle(.char("b"))
    #expect(kind(wizard.handle(.enter)) == "close")
    #expect(finished && !cancelled)

    let other = Wizard(title: "New", steps: [NameStep()], onFinish: { Issue.record("must not finish"); return nil },
                       onCancel: { cancelled = true })
    #expect(kind(other.handle(.escape)) == "close")
    #expect(cancelled)
}

@Test func applicationShowsTheMinimumSizeInsteadOfALayout() {
    let app = Application(root: TextViewer(title: "t", lines: ["hello"]), styles: styles)
    #expect(app.render(width: 80, height: 24).text.contains("hello"))
    let small = app.render(width: 60, height: 20).text
    #expect(small.contains("Terminal too small: 60x20") && !small.contains("hello"))
}

/// The case name of a result, for comparing in tests (panels are not Equatable).
func kind(_ result: EventResult) -> String {
    switch result {
    case .handled: "handled"
    case .ignored: "ignored"
    case .quit: "quit"
    case .close: "close"
    case .open: "open"
    }
}

@Test func ctrlCLeavesFromAnyPanel() {
    let app = Application(root: TextViewer(title: "t", lines: []), styles: styles)
    app.open(Dialog(title: "d", message: "m"))
    #expect(app.send(.char("x")))
    #expect(!app.send(.ctrl("c")))
}
