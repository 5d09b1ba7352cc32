/// Steps with Back / Next / Cancel on every page. Nothing is written until the last step's
/// Next (`onFinish`); Esc or Cancel leaves without a trace.
public final class Wizard: Panel {
    public let title: String
    public let steps: [any WizardStep]
    public let finishTitle: String
    public private(set) var index = 0
    /// A focused button (0 Back, 1 Next, 2 Cancel), or nil while a form field has focus.
    public private(set) var focusedButton: Int?
    public private(set) var error: String?
    private let onFinish: () -> String?
    private let onCancel: () -> Void

    public init(title: String, steps: [any WizardStep], finishTitle: String = "Create",
                onFinish: @escaping () -> String?, onCancel: @escaping () -> Void = {}) {
        self.title = title
        self.steps = steps
        self.finishTitle = finishTitle
        self.onFinish = onFinish
        self.onCancel = onCancel
        show(0)
    }

    public var step: any WizardStep { steps[index] }

    private func show(_ newIndex: Int) {
        index = newIndex
        error = nil
        step.enter()
        step.update()
        step.form.focusFirst()
        focusedButton = step.form.focus == nil ? 1 : nil
    }

    private var buttonTitles: [String] { ["Back", index == steps.count - 1 ? finishTitle : "Next", "Cancel"] }

    public func handle(_ key: KeyEvent) -> EventResult {
        let result = route(key)
        step.update()
        step.form.revalidateFocus()
        return result
    }

    private func route(_ key: KeyEvent) -> EventResult {
        switch key {
        case .escape: return press(2)
        case .enter: return press(focusedButton ?? 1)
        default: break
        }
        if focusedButton != nil, Wizard.isTyping(key), !step.form.fields.allSatisfy({ !$0.isFocusable || $0.isHidden }) {
            // Typing while a button has focus goes to the field it came from, not nowhere.
            step.form.restoreFocus()
            focusedButton = nil
        }
        if let button = focusedButton {
            switch key {
            case .tab where button == 2: focusForm(first: true)
            case .backTab where button == firstButton: focusForm(first: false)
            case .tab, .right: focusedButton = nextButton(after: button, by: 1)
            case .backTab, .left: focusedButton = nextButton(after: button, by: -1)
            case .up: focusForm(first: false)
            default: return .ignored
            }
            return .handled
        }
        if step.form.handle(key) { error = nil; return .handled }
        switch key {
        // Tab goes round the buttons in their order (Back when there is one); ↓ to Next.
        case .tab: step.form.blur(); focusedButton = firstButton
        case .down: step.form.blur(); focusedButton = 1
        case .backTab: step.form.blur(); focusedButton = 2
        case .up: break // the first field: ↑ goes nowhere, rather than to Cancel
        default: return .ignored
        }
        return .handled
    }

    private static func isTyping(_ key: KeyEvent) -> Bool {
        switch key {
        case .char, .backspace, .delete, .ctrl("u"): return true
        default: return false
        }
    }

    private var firstButton: Int { index == 0 ? 1 : 0 }

    private func nextButton(after button: Int, by delta: Int) -> Int {
        min(max(button + delta, firstButton), 2)
    }

    private func focusForm(first: Bool) {
        if first { step.form.focusFirst() } else { step.form.focusLast() }
        focusedButton = step.form.focus == nil ? 1 : nil
    }

    private func press(_ button: Int) -> EventResult {
        switch button {
        case 0:
            if index > 0 { show(index - 1) }
            return .handled
        case 1:
            if let problem = step.commit() { error = problem; return .handled }
            if index < steps.count - 1 { show(index + 1); return .handled }
            if let problem = onFinish() { error = problem; return .handled }
            return .close
        default:
            onCancel()
            return .close
        }
    }

    public func draw(on canvas: Canvas, styles: ThemeStyles) {
        let width = min(76, canvas.width - 2)
        let inner = width - 4
        let form = step.form
        let errorLines = error.map { TextWrap.lines($0, width: inner) } ?? []
        let height = min(max(form.height(width: inner) + errorLines.count + 8, 14), canvas.height - 2)
        let rect = canvas.bounds.centered(width: width, height: height)
        canvas.fill(rect, style: styles[.dialog])
        canvas.box(rect, style: styles[.dialog], title: "\(title) ─ \(index + 1) of \(steps.count)", titleStyle: styles.bold(.dialog))
        canvas.text(step.heading, x: rect.x + 2, y: rect.y + 1, style: styles.bold(.dialog), maxWidth: inner)
        let formTop = rect.y + 3
        let buttonsY = rect.maxY - 3
        form.draw(on: canvas, in: Rect(x: rect.x + 2, y: formTop, width: inner, height: buttonsY - errorLines.count - formTop),
                  styles: styles, base: .dialog)
        var errorStyle = styles.bold(.error)
        errorStyle.background = styles[.dialog].background
        for (i, line) in errorLines.enumerated() {
            canvas.text(line, x: rect.x + 2, y: buttonsY - errorLines.count + i, style: errorStyle)
        }
        ButtonRow.draw(buttonTitles, focused: focusedButton, enabled: [index > 0, true, true], on: canvas,
                       rightEdge: rect.maxX - 2, y: buttonsY, styles: styles, base: .dialog)
        canvas.text("Tab next field  ↑↓←→ choose  Enter \(buttonTitles[1])  Esc cancel", x: rect.x + 2, y: rect.maxY - 2,
                    style: styles[.dialog], maxWidth: inner)
        if focusedButton != nil { canvas.cursor = nil }
    }
}
