import Engine
import Foundation
import TUI

/// A VM's console: the guest's text screen (or its COM1 terminal) in a frame titled with the VM,
/// the VM's state and speed below it. Keys go to the guest until Ctrl-] hands the keyboard back
/// to vmtui and opens the VM menu; the VM keeps running when the console is closed.
final class ConsoleScreen: Panel {
    let session: any VMControl
    /// The running VM's vCPUs, for the status line.
    let cpuCount: Int
    private let pane: ConsolePane
    private var focus = Focus.guest
    private var view = View.screen
    /// Serial view: lines scrolled back from the newest, and the line count that offset refers to.
    private var scrolledBack = 0
    private var scrollAnchor = 0
    private var pageHeight = 10

    private enum Focus { case guest, menu }
    private enum View { case screen, serial }

    /// The key that takes the keyboard back from the guest.
    static let hostKey = KeyEvent.ctrl("]")

    /// Keeps a CD change in the VM's config (nil: ejected), as UTM does.
    private let saveISO: (String?) throws -> Void
    /// The CD notice on show and when it first appeared: the info line carries it for a while.
    private var mediaNotice: (notice: VMSession.MediaNotice, since: Date)?
    /// Characters typed that the guest's US keyboard has no key for (not sent), and since when.
    private var untyped: (characters: String, since: Date)?

    /// The ISO the VM's config names now, to start the CD dialog with.
    private let currentISO: () -> String?
    /// Keeps a network choice in the VM's config and has the running VM switch to it.
    private let switchNetwork: (VMConfig.Network) throws -> Void
    /// The network switch's answer on show and when it first appeared.
    private var networkNotice: (notice: VMSession.MediaNotice, since: Date)?

    init(session: any VMControl, pane: ConsolePane, cpuCount: Int = 1, currentISO: @escaping () -> String? = { nil },
         switchNetwork: @escaping (VMConfig.Network) throws -> Void = { _ in },
         saveISO: @escaping (String?) throws -> Void) {
        self.session = session
        self.cpuCount = cpuCount
        self.pane = pane
        self.currentISO = currentISO
        self.switchNetwork = switchNetwork
        self.saveISO = saveISO
    }

    /// Every key belongs to the guest or the VM menu, Ctrl-C included.
    var capturesAllKeys: Bool { true }

    private var guestHasKeyboard: Bool { focus == .guest && session.state.isActive }

    // MARK: Keys

    func handle(_ key: KeyEvent) -> EventResult {
        if key == ConsoleScreen.hostKey {
            focus = focus == .guest ? .menu : .guest
            return .handled
        }
        if guestHasKeyboard {
            switch (view, key) {
            case (.serial, .pageUp): scroll(by: pageHeight)
            case (.serial, .pageDown): scroll(by: -pageHeight)
            case (.serial, _): session.sendSerial(key.serialBytes)
            case (.screen, _):
                if let stroke = GuestKeyStroke(terminalKey: key) {
                    session.send(stroke)
                } else if case .char(let c) = key {
                    // Nothing is sent for a character the US layout cannot type; the info line says so.
                    let recent = untyped.map { Date().timeIntervalSince($0.since) < 8 } ?? false
                    untyped = ((recent ? untyped!.characters : "") + String(c), Date())
                }
            }
            return .handled
        }
        let active = session.state.isActive
        switch key {
        case .escape where active:
            focus = .guest
        case .char("p") where active:
            // Pausing keeps the menu up (to resume from); resuming hands the keyboard back.
            if session.state.isPaused {
                session.resume()
                focus = .guest
            } else {
                session.pause()
            }
        case .char("r") where active:
            session.reset()
            focus = .guest
        case .char("c") where active:
            session.sendCtrlAltDel()
            focus = .guest
        case .char("]") where active:
            // Ctrl-] itself, which the console keeps for this menu.
            session.send(GuestKeyStroke(.rightBracket, ctrl: true))
            focus = .guest
        case .char("o") where active:
            return .open(confirmPowerOff())
        case .char("i") where active:
            return .open(changeISO())
        case .char("n") where active:
            return .open(changeNetwork())
        case .char("t"):
            view = view == .screen ? .serial : .screen
            scrolledBack = 0
            if active { focus = .guest }
        case .pageUp where view == .serial: scroll(by: pageHeight)
        case .pageDown where view == .serial: scroll(by: -pageHeight)
        case .char("q"), .escape:
            return .close
        default:
            return .ignored
        }
        return .handled
    }

    private func scroll(by lines: Int) {
        scrolledBack = max(0, scrolledBack + lines)
        scrollAnchor = session.serial().scrollback.totalLines
    }

    /// Insert or eject: the file gets the same checks as `vmtui set iso=`, then goes into the
    /// running VM's drive and its config.
    private func changeISO() -> Dialog {
        let field = TextField(label: "", text: currentISO() ?? "", placeholder: "path to an .iso") {
            PathCompleter.complete($0, extensions: ["iso"])
        }
        return Dialog(title: "CD/DVD of \(session.name)",
                      message: "Put another ISO in the virtual CD/DVD drive, or eject the disc. The guest sees the change "
                        + "at once; the choice is kept for the next start. Tab completes the file name, Enter inserts, "
                        + "Shift-Tab picks Eject or Cancel.",
                      buttons: ["Insert", "Eject", "Cancel"], field: field) { [self] dialog, button, text in
            let path: String?
            switch button {
            case 0:
                let typed = (text.trimmingCharacters(in: .whitespaces) as NSString).expandingTildeInPath
                guard !typed.isEmpty else { dialog.error = "Type the path of an ISO file, or choose Eject."; return .handled }
                let absolute = URL(fileURLWithPath: typed).standardizedFileURL.path
                do { try BootMedia.checkISO(absolute) } catch { dialog.error = "\(error)"; return .handled }
                path = absolute
            case 1: path = nil
            default: return .close
            }
            do { try saveISO(path) } catch { dialog.error = "\(error)"; return .handled }
            session.changeISO(path)
            focus = .guest
            return .close
        }
    }

    /// NAT or a host bridge for the running VM: link down, the backend swapped, link up, same
    /// MAC; the choice is kept for the next start.
    private func changeNetwork() -> Dialog {
        let bridges = HostBridges.list()
        let field = TextField(label: "", text: bridges.first ?? "", placeholder: "host bridge for Bridge") { text in
            bridges.filter { $0.hasPrefix(text) }
        }
        let found = bridges.isEmpty ? "no bridges found on this host" : "host bridges: \(bridges.joined(separator: ", "))"
        return Dialog(title: "Network of \(session.name)",
                      message: "Plug the network card into NAT, or into the host bridge named below (\(found); Tab "
                        + "completes). The guest sees the cable pulled and plugged back; it may need to renew its DHCP lease.",
                      buttons: ["NAT", "Bridge", "Cancel"], field: field) { [self] dialog, button, text in
            let choice: VMConfig.Network
            switch button {
            case 0: choice = VMConfig.Network(mode: .nat)
            case 1:
                let bridge = text.trimmingCharacters(in: .whitespaces)
                guard !bridge.isEmpty else { dialog.error = "Type the name of a host bridge, or choose NAT."; return .handled }
                choice = VMConfig.Network(mode: .bridge, bridgeInterface: bridge)
            default: return .close
            }
            do { try switchNetwork(choice) } catch { dialog.error = "\(error)"; return .handled }
            focus = .guest
            return .close
        }
    }

    private func confirmPowerOff() -> Dialog {
        let seconds = session.powerButtonTimeout.components.seconds
        let dialog = Dialog(
            title: "Power off \(session.name)",
            message: "Press the ACPI power button of \(session.name)? A guest with ACPI shuts down cleanly; the power is "
                + "cut after \(seconds) s if it has not, or at once when the guest does not use ACPI. Unsaved work in the guest is lost.",
            buttons: ["Power off", "Cancel"]
        ) { [session] _, button, _ in
            if button == 0 { session.requestPowerOff() }
            return .close
        }
        dialog.selected = 1
        return dialog
    }

    // MARK: Drawing

    func draw(on canvas: Canvas, styles: ThemeStyles) {
        canvas.fill(canvas.bounds, style: styles[.background])
        // A stopped VM's reason is shown whole: the info line grows to up to four rows.
        let stopped = stopMessage(width: canvas.width)
        let infoRows = max(stopped.count, 1)
        let area = Rect(x: 0, y: 0, width: canvas.width, height: max(canvas.height - 1 - infoRows, 1))
        let keyboard = guestHasKeyboard ? "keyboard: guest ─ Ctrl-] menu" : "keyboard: vmtui"
        var notice: String?
        switch view {
        case .screen:
            notice = drawScreen(on: canvas, in: area, keyboard: keyboard, styles: styles)
        case .serial:
            drawSerial(on: canvas, in: area, title: "\(session.name) ─ COM1 ─ \(keyboard)", styles: styles)
        }
        if let cursor = canvas.cursor, cursor.y >= area.maxY || !guestHasKeyboard { canvas.cursor = nil }
        if let untyped, Date().timeIntervalSince(untyped.since) < 8 {
            let list = untyped.characters.map(String.init).joined(separator: " ")
            notice = (notice.map { $0 + " │ " } ?? "") + "not typed (no key on the guest's US keyboard): \(list)"
        }
        drawInfo(on: canvas, y: area.maxY, notice: notice, media: currentMediaNotice(), stopped: stopped, styles: styles)
        hints.draw(on: canvas, x: 0, y: canvas.height - 1, width: canvas.width, styles: styles)
    }

    /// Draws the guest screen; returns a notice when it does not fit.
    private func drawScreen(on canvas: Canvas, in area: Rect, keyboard: String, styles: ThemeStyles) -> String? {
        let screen = session.screen().screen
        let title = "\(session.name) ─ \(keyboard)"
        guard case .text(let columns, let rows) = screen.mode else {
            canvas.box(area, style: styles[.consoleFrame], title: title, titleStyle: styles.bold(.consoleFrame))
            let message = if case .graphics(let w, let h, let bpp) = screen.mode {
                "The guest is in graphics mode \(w)x\(h), \(bpp) bpp: the console shows text modes only (Ctrl-] t for COM1)."
            } else {
                "The guest has not set up its display yet."
            }
            let lines = TextWrap.lines(message, width: max(area.width - 4, 1))
            for (i, line) in lines.enumerated() {
                canvas.text(line, x: area.x + max((area.width - Canvas.columns(of: line)) / 2, 1),
                            y: area.y + area.height / 2 - lines.count / 2 + i, style: styles[.window])
            }
            return nil
        }
        if area.width >= columns + 2, area.height >= rows + 2 {
            let frame = area.centered(width: columns + 2, height: rows + 2)
            canvas.box(frame, style: styles[.consoleFrame], title: title, titleStyle: styles.bold(.consoleFrame))
            pane.draw(screen, on: canvas, x: frame.x + 1, y: frame.y + 1)
            return nil
        }
        // Too small for the frame: no frame, and the rows that fit follow the guest's cursor
        // so the line being typed on stays in view; the notice says which rows show.
        let x = max((area.width - columns) / 2, 0)
        let visible = min(rows, area.height)
        let first = ConsolePane.firstVisibleRow(screen, visibleRows: visible)
        pane.draw(screen, on: canvas, x: x, y: area.y, firstRow: first, maxRows: visible)
        let shownColumns = min(columns, area.width)
        guard (shownColumns, visible) != (columns, rows) else { return nil }
        let columnsNote = shownColumns < columns ? ", columns 1-\(shownColumns) of \(columns)" : ""
        return "rows \(first + 1)-\(first + visible) of \(rows)\(columnsNote) (window too small)"
    }

    private func drawSerial(on canvas: Canvas, in area: Rect, title: String, styles: ThemeStyles) {
        let window = styles[.window]
        canvas.fill(area, style: window)
        canvas.box(area, style: styles[.consoleFrame], title: title, titleStyle: styles.bold(.consoleFrame))
        let body = area.inset(by: 1)
        guard body.width > 0, body.height > 0 else { return }
        pageHeight = max(body.height - 1, 1)
        let scrollback = session.serial().scrollback
        if scrolledBack > 0 {
            // New output below must not move what the user scrolled back to.
            scrolledBack = min(scrolledBack + scrollback.totalLines - scrollAnchor, max(scrollback.lineCount - body.height, 0))
            scrollAnchor = scrollback.totalLines
        }
        let lines = scrollback.tail(body.height, scrolledBack: scrolledBack)
        for (i, line) in lines.enumerated() {
            canvas.text(line, x: body.x, y: body.y + i, style: window, maxWidth: body.width)
        }
        if scrolledBack > 0 {
            let label = " \(scrolledBack) lines back ─ PgDn "
            canvas.text(label, x: area.maxX - Canvas.columns(of: label) - 2, y: area.maxY - 1, style: styles.bold(.title))
        } else if let last = lines.last {
            canvas.cursor = (min(body.x + Canvas.columns(of: last), body.maxX - 1), body.y + lines.count - 1)
        }
    }

    /// The engine's answer to the last CD change or network switch (the newer), for 8 seconds
    /// after it arrived.
    private func currentMediaNotice() -> VMSession.MediaNotice? {
        let media = ConsoleScreen.fresh(session.mediaNotice, &mediaNotice)
        let network = ConsoleScreen.fresh(session.networkNotice, &networkNotice)
        guard let media else { return network?.notice }
        guard let network else { return media.notice }
        return network.since > media.since ? network.notice : media.notice
    }

    private static func fresh(_ latest: VMSession.MediaNotice?, _ shown: inout (notice: VMSession.MediaNotice, since: Date)?)
        -> (notice: VMSession.MediaNotice, since: Date)? {
        guard let latest else { return nil }
        if shown?.notice != latest { shown = (latest, Date()) }
        return Date().timeIntervalSince(shown!.since) < 8 ? shown : nil
    }

    /// The line under the console: state, uptime, speed, engine CPU, and any notice.
    /// "NAME stopped: REASON" wrapped to the width, at most four rows; empty while it runs.
    private func stopMessage(width: Int) -> [String] {
        guard case .stopped = session.state else { return [] }
        return Array(TextWrap.lines("\(session.name) " + session.state.description, width: max(width - 2, 1)).prefix(4))
    }

    private func drawInfo(on canvas: Canvas, y: Int, notice: String?, media: VMSession.MediaNotice?, stopped: [String],
                          styles: ThemeStyles) {
        let base = styles[.statusBar]
        canvas.fill(Rect(x: 0, y: y, width: canvas.width, height: max(stopped.count, 1)), style: base)
        var error = styles.bold(.error)
        error.background = base.background
        let state = session.state
        // A stopped VM's reason has the line to itself: notices would push it off the edge.
        if !stopped.isEmpty {
            for (i, line) in stopped.enumerated() { canvas.text(" " + line, x: 0, y: y + i, style: error, maxWidth: canvas.width) }
            return
        }
        var x = 0
        if let notice {
            x += canvas.text(" " + notice + " │", x: x, y: y, style: error, maxWidth: canvas.width)
        }
        if let media, x < canvas.width {
            x += canvas.text(" " + media.text + " │", x: x, y: y, style: media.isError ? error : styles.bold(.statusBar),
                             maxWidth: canvas.width - x)
        }
        if x < canvas.width {
            x += canvas.text(" \(session.name) ", x: x, y: y, style: styles.bold(.statusBar), maxWidth: canvas.width - x)
            // Whole fields only: a cut one ("303.4" without its "MIPS") reads as another figure.
            let summary = ConsoleScreen.summary(state: state, stats: session.stats, cpus: cpuCount)
            canvas.text(TextWrap.fieldLines(summary, width: canvas.width - x).first ?? "", x: x, y: y, style: base,
                        maxWidth: canvas.width - x)
        }
    }

    /// "running  up 0:01:12  2 CPUs  212.0 MIPS  engine CPU 98%" (the list's detail pane uses it
    /// too); MIPS are all the vCPUs' instructions together, and left out under KVM, which does
    /// not count them (the engine CPU then includes the vCPU threads').
    static func summary(state: VMState, stats: VMStats, cpus: Int) -> String {
        let count = cpus == 1 ? "1 CPU" : "\(cpus) CPUs"
        let mips = stats.countsInstructions ? "  \(VMStats.mipsText(stats.mips)) MIPS" : ""
        return "\(state.label)  up \(stats.uptimeText)  \(count)\(mips)  engine CPU \(Int(stats.cpuPercent.rounded()))%"
    }

    /// A running VM's live rows, as the list's detail pane and `vmtui show` print them: the
    /// summary, each CPU's figure when there are several, the disk and the network rates (two
    /// short rows: one long line wrapped a word onto a line of its own in a narrow pane).
    static func liveRows(state: VMState, stats: VMStats, cpus: Int) -> [(String, String)] {
        [("State", summary(state: state, stats: stats, cpus: cpus))]
            + (stats.perCPUText.map { [("Per CPU", $0)] } ?? [])
            + [("Disk I/O", stats.diskText), ("Net I/O", stats.networkText)]
    }

    private var hints: StatusBar {
        if guestHasKeyboard {
            var bar = StatusBar(hints: [("Ctrl-]", "VM menu (the keyboard is the guest's until then)")])
            if view == .serial { bar.hints += [("PgUp/PgDn", "scroll")] }
            return bar
        }
        guard session.state.isActive else {
            return StatusBar(hints: [("q", "back to the list"), ("t", view == .screen ? "COM1 output" : "screen")])
        }
        return StatusBar(hints: [
            ("p", session.state.isPaused ? "resume" : "pause"), ("r", "reset"), ("c", "Ctrl-Alt-Del"), ("]", "Ctrl-]"),
            ("o", "power off"), ("i", "CD"), ("n", "net"),
            ("t", view == .screen ? "serial" : "screen"), ("q", "list"), ("Esc", "guest"),
        ])
    }
}
