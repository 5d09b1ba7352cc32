import Engine
import Foundation
import TUI

/// The library: VMs on the left, the selected VM's settings on the right, keys at the bottom.
final class MainScreen: Panel {
    let library: VMLibrary
    /// The running VMs, each its own process; they keep running when this screen quits.
    let processes: VMProcesses
    /// How consoles draw guest screens (the terminal's colour depth and UTF-8 support).
    var consolePane = ConsolePane(depth: .colors256, utf8: true)
    private(set) var entries: [VMLibrary.Entry] = []
    private let list = ListView(count: 0)
    private var status = StatusBar(hints: [
        ("n", "New"), ("e", "Edit"), ("s", "Start"), ("Enter", "Console"), ("N", "NAT/Bridge"),
        ("d", "Delete"), ("?", "Help"), ("q", "Quit"),
    ])

    init(library: VMLibrary, processes: VMProcesses = VMProcesses()) {
        self.library = library
        self.processes = processes
        reload()
    }

    var selectedEntry: VMLibrary.Entry? { entries.isEmpty ? nil : entries[list.selected] }

    func reload(selecting name: String? = nil) {
        let previous = name ?? selectedEntry?.name
        entries = library.list()
        list.count = entries.count
        if let previous, let index = entries.firstIndex(where: { $0.name == previous }) { list.select(index) }
    }

    /// The library as last seen on disk (bundle names, config.json modification times) and when.
    private var watched: (signature: [String: Int], at: Date)?
    private var libraryVersion: UInt64 = 0

    /// Notices VMs created, changed or deleted by another vmtui (the CLI) without `r`: looks at
    /// most twice a second; the value changes when the list was re-read.
    func watchLibrary() -> UInt64 {
        let now = Date()
        if let watched, now.timeIntervalSince(watched.at) < 0.5 { return libraryVersion }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: library.vmsDirectory.path)) ?? []
        var signature: [String: Int] = [:]
        for name in names where name.hasSuffix(".vmtui") {
            var info = stat()
            let found = stat(library.vmsDirectory.appendingPathComponent(name).appendingPathComponent("config.json").path, &info) == 0
            signature[name] = found ? info.st_mtim.tv_sec * 1_000_000_000 + info.st_mtim.tv_nsec : -1
        }
        if let watched, watched.signature != signature {
            reload()
            libraryVersion &+= 1
        }
        watched = (signature, now)
        return libraryVersion
    }

    func show(_ message: String, isError: Bool = false) {
        status.message = message
        status.messageIsError = isError
    }

    // MARK: Keys

    func handle(_ key: KeyEvent) -> EventResult {
        status.message = nil
        if list.handle(key) { return .handled }
        switch key {
        case .char("q"), .function(10):
            return .quit // running VMs are processes of their own: they keep running
        case .char("?"), .function(1): return .open(TextViewer(title: "vmtui help", lines: HelpText.lines))
        case .char("n"), .function(2): return .open(VMWizard.make(draft: VMDraft(), screen: self))
        case .char("r"), .ctrl("l"): reload(); return .handled
        default: break
        }
        guard let entry = selectedEntry else {
            if [.char("e"), .char("d"), .char("s"), .enter, .char("N")].contains(key) { show("No VMs yet: press n to create one.") }
            return .handled
        }
        switch (key, entry) {
        case (.char("d"), _), (.function(8), _), (.delete, _):
            if processes[entry.name]?.state.isActive == true {
                show("\(entry.name) is running: power it off first (Enter, Ctrl-] o).", isError: true)
                return .handled
            }
            return .open(confirmDelete(entry.name))
        case (.char("e"), .vm(let config)), (.function(4), .vm(let config)):
            return .open(VMWizard.make(draft: VMDraft(editing: config), screen: self))
        case (.char("s"), .vm(let config)), (.function(5), .vm(let config)):
            let session: VMClient
            do { session = try processes.start(config) } catch {
                show("\(error)", isError: true)
                return .handled
            }
            // A VM that cannot be built (an image in use, a missing BIOS) stops at once: say so
            // here, with the reason in the State row, instead of opening an empty console.
            let deadline = ContinuousClock.now + .seconds(3)
            while session.state == .starting, ContinuousClock.now < deadline { Thread.sleep(forTimeInterval: 0.01) }
            if case .stopped(let stop) = session.state {
                show("\(config.name) could not start: \(stop)", isError: true)
                return .handled
            }
            return .open(console(session))
        case (.enter, .vm(let config)):
            guard let session = processes[config.name] else {
                show("\(config.name) is not running: press s to start it.")
                return .handled
            }
            return .open(console(session))
        case (.char("N"), .vm(let config)), (.function(6), .vm(let config)):
            return toggleNetwork(config)
        case (.char("e"), .broken(let name, _)), (.function(4), .broken(let name, _)):
            // A config that decodes but has a bad value can be repaired in the wizard.
            if let config = try? library.load(name: name, validating: false), config.name == name {
                return .open(VMWizard.make(draft: VMDraft(editing: config), screen: self))
            }
            show("\(name) cannot be read: fix \(library.configURL(name: name).path) by hand or delete it (d).", isError: true)
            return .handled
        case (_, .broken(let name, _)) where [.char("s"), .function(5), .enter, .char("N"), .function(6)].contains(key):
            show("\(name) is broken: fix \(library.configURL(name: name).path) or delete it (d).", isError: true)
            return .handled
        default:
            return .ignored
        }
    }

    private func confirmDelete(_ name: String) -> Dialog {
        let dialog = Dialog(
            title: "Delete \(name)",
            message: "Delete \(name)? This removes \(library.bundleURL(name: name).path) with its config and the disk "
                + "images inside it. Images outside the bundle are kept.",
            buttons: ["Delete", "Cancel"]
        ) { [self] dialog, button, _ in
            guard button == 0 else { return .close }
            do {
                try library.delete(name: name)
                reload()
                show("deleted \(name)")
                return .close
            } catch {
                dialog.error = "\(error)"
                return .handled
            }
        }
        dialog.selected = 1
        return dialog
    }

    /// N: NAT <-> Bridge in one key; asks for the bridge when the VM has none yet.
    private func toggleNetwork(_ config: VMConfig) -> EventResult {
        var updated = config
        switch config.network.mode {
        case .bridge, .none:
            updated.network.mode = .nat
        case .nat:
            guard config.network.bridgeInterface?.isEmpty == false else { return .open(askBridge(config)) }
            updated.network.mode = .bridge
        }
        save(updated)
        return .handled
    }

    private func askBridge(_ config: VMConfig) -> Dialog {
        let bridges = HostBridges.list()
        let found = bridges.isEmpty ? "No bridges found on this host (/sys/class/net/*/bridge); type the name of one you "
            + "will create (e.g. br0)." : "Host bridges: \(bridges.joined(separator: ", ")) (Tab completes)."
        let field = TextField(label: "", text: bridges.first ?? "") { text in bridges.filter { $0.hasPrefix(text) } }
        return Dialog(title: "Bridge \(config.name)", message: "Which host bridge should \(config.name) join? \(found)",
                      buttons: ["OK", "Cancel"], field: field) { [self] dialog, button, text in
            guard button == 0 else { return .close }
            var updated = config
            updated.network = VMConfig.Network(mode: .bridge, bridgeInterface: text.trimmingCharacters(in: .whitespaces),
                                               portForwards: config.network.portForwards)
            do { try library.save(updated) } catch { dialog.error = "\(error)"; return .handled }
            reload()
            showNetwork(updated)
            return .close
        }
    }

    /// A VM's console; a CD changed there is written to the VM's config.
    private func console(_ session: any VMControl) -> ConsoleScreen {
        let config = processes.runningConfig(session.name) ?? (try? library.load(name: session.name, validating: false))
        return ConsoleScreen(session: session, pane: consolePane, cpuCount: config?.cpuCount ?? 1, currentISO: { [library] in
            try? library.load(name: session.name, validating: false).bootISO
        }, switchNetwork: { [self] choice in
            var config = try library.load(name: session.name)
            config.network.mode = choice.mode
            if choice.mode == .bridge { config.network.bridgeInterface = choice.bridgeInterface }
            try library.save(config)
            reload()
            _ = processes.switchNetwork(session.name, to: config.network) // the console shows the VM's answer
        }) { [self] iso in
            var config = try library.load(name: session.name)
            config.bootISO = iso
            try library.save(config)
            processes.runningISOChanged(session.name, to: iso)
            reload()
        }
    }

    private func save(_ config: VMConfig) {
        do {
            try library.save(config)
            reload()
            showNetwork(config)
        } catch {
            show("\(error)", isError: true)
        }
    }

    /// After N: the saved choice, and for a running VM how its switch went (the guest may need
    /// to renew its lease, which the notice says).
    private func showNetwork(_ config: VMConfig) {
        if let notice = processes.switchNetwork(config.name, to: config.network) {
            show("\(config.name): \(notice.text)", isError: notice.isError)
        } else {
            show("\(config.name): network \(config.networkSummary)")
        }
    }

    // MARK: Drawing

    func draw(on canvas: Canvas, styles: ThemeStyles) {
        let frame = canvas.bounds
        let window = styles[.window], border = styles[.border]
        canvas.fill(frame, style: window)
        canvas.box(frame, style: border, title: "vmtui", titleStyle: styles.bold(.title))
        let split = min(max(33, frame.width / 3), 44)
        let bottom = frame.maxY - 3
        canvas.vertical("│", x: split, y: 1, length: bottom - 1, style: border)
        canvas.horizontal("─", x: 1, y: bottom, length: frame.width - 2, style: border)
        canvas[0, bottom] = Cell("├", border)
        canvas[frame.maxX - 1, bottom] = Cell("┤", border)
        canvas[split, 0] = Cell("┬", border)
        canvas[split, bottom] = Cell("┴", border)
        status.draw(on: canvas, x: 1, y: frame.maxY - 2, width: frame.width - 2, styles: styles)

        canvas.text("Virtual machines", x: 2, y: 1, style: styles.bold(.title), maxWidth: split - 3)
        let listRect = Rect(x: 2, y: 2, width: split - 3, height: bottom - 2)
        if entries.isEmpty {
            canvas.text("(none)", x: 3, y: 2, style: window)
        } else {
            list.draw(on: canvas, in: listRect, normal: window, selection: styles[.selection]) { [self] index, width in
                row(entries[index], selected: index == list.selected, width: width)
            }
        }
        let detail = Rect(x: split + 2, y: 1, width: frame.maxX - split - 4, height: bottom - 1)
        drawDetail(on: canvas, in: detail, styles: styles)
    }

    private func row(_ entry: VMLibrary.Entry, selected: Bool, width: Int) -> String {
        let marker = selected ? "▶ " : "  "
        let nameWidth = max(width - 20, 6)
        let name = MainScreen.shortened(entry.name, to: nameWidth)
        func pad(_ text: String, _ n: Int) -> String { text.padding(toLength: n, withPad: " ", startingAt: 0) }
        switch entry {
        case let .vm(config):
            return marker + pad(name, nameWidth) + " " + pad(config.osShort, 5) + " " + pad(stateWord(config.name), 7) + " "
                + config.modeShort
        case let .broken(_, reason):
            let text = marker + pad(name, nameWidth) + " broken: " + reason
            return text.count > width ? String(text.prefix(width - 1)) + "…" : text
        }
    }

    /// A name cut in the middle ("ubuntu-se…-server-2"), keeping its end: names that differ
    /// only at the end (numbered copies) stay different in the list.
    static func shortened(_ name: String, to width: Int) -> String {
        guard name.count > width else { return name }
        let tail = (width - 1) / 2
        return String(name.prefix(width - 1 - tail)) + "…" + String(name.suffix(tail))
    }

    /// Seven columns at most, for the list.
    private func stateWord(_ name: String) -> String {
        if processes[name]?.crash != nil { return "crashed" }
        switch processes[name]?.state {
        case nil, .stopped(.poweredOff)?, .stopped(.powerCut)?: return "stopped"
        case .starting?, .running?: return "running"
        case .paused?, .hostDiskFull?: return "paused"
        case .stopped(.tripleFault)?, .stopped(.resetLoop)?, .stopped(.unsupported)?: return "crashed"
        case .stopped(.hostError)?: return "error"
        case .stopped(.debugExit)?: return "exited"
        }
    }

    /// A running VM's settings with the saved changes it does not run with yet:
    /// "Memory 16 MiB → 80 MiB at next start".
    static func pendingRows(running: [(String, String)], saved: [(String, String)]) -> [(String, String)] {
        let now = Dictionary(running.filter { !$0.0.isEmpty }, uniquingKeysWith: { first, _ in first })
        let savedLabels = Set(saved.map(\.0))
        var rows: [(String, String)] = [("Pending", "saved changes apply at the next start")]
        for (label, value) in saved {
            guard let current = now[label], current != value else { rows.append((label, value)); continue }
            rows.append((label, "\(current) → \(value) at next start"))
        }
        for (label, value) in running where !label.isEmpty && !savedLabels.contains(label) {
            rows.append((label, "\(value) → none at next start"))
        }
        return rows
    }

    private func drawDetail(on canvas: Canvas, in rect: Rect, styles: ThemeStyles) {
        let window = styles[.window]
        guard let entry = selectedEntry else {
            canvas.text("No virtual machines yet", x: rect.x, y: rect.y, style: styles.bold(.title))
            for (i, line) in TextWrap.lines("Press n to create one with the wizard, or use `vmtui create NAME` "
                + "(see vmtui --help). VMs live in \(library.vmsDirectory.path).", width: rect.width).enumerated() {
                canvas.text(line, x: rect.x, y: rect.y + 2 + i, style: window)
            }
            return
        }
        var errorStyle = styles.bold(.error)
        errorStyle.background = window.background
        switch entry {
        case let .vm(config):
            let session = processes[config.name]
            let state = session.map { $0.state.isActive ? "\($0.state.label) \($0.stats.uptimeText)" : $0.state.label } ?? "stopped"
            canvas.text(config.name, x: rect.x, y: rect.y, style: styles.bold(.title), maxWidth: rect.width - state.count - 1)
            canvas.text(state, x: rect.maxX - state.count, y: rect.y, style: window)
            var y = rect.y + 1
            var rows = config.details(library: library) + [("Bundle", library.bundleURL(name: config.name).path)]
            if let running = processes.runningConfig(config.name), running != config {
                rows = Self.pendingRows(running: running.details(library: library), saved: rows)
            }
            if let session {
                var live = [("State", session.crash.map { "crashed: \($0)" } ?? "\(session.state)")]
                if session.state.isActive {
                    live = ConsoleScreen.liveRows(state: session.state, stats: session.stats,
                                                  cpus: (processes.runningConfig(config.name) ?? config).cpuCount)
                    // The hint only where it fits: wrapped, it took a line of its own (the footer says it too).
                    let hint = "  (Enter: console)"
                    if live[0].1.count + hint.count <= rect.width - 9 { live[0].1 += hint }
                }
                rows.insert(contentsOf: live + session.warnings.map { ("Warning", $0) }, at: 0)
            }
            for (label, value) in rows {
                let lines = TextWrap.fieldLines(value, width: rect.width - 9)
                for (i, line) in lines.enumerated() where y < rect.maxY {
                    if i == 0 { canvas.text(label, x: rect.x, y: y, style: styles.bold(.window)) }
                    canvas.text(line, x: rect.x + 9, y: y, style: window)
                    y += 1
                }
            }
        case let .broken(name, reason):
            canvas.text(name, x: rect.x, y: rect.y, style: styles.bold(.title))
            canvas.text("broken", x: rect.maxX - 6, y: rect.y, style: errorStyle)
            var y = rect.y + 2
            let text = ["This VM cannot be loaded.", "broken: \(reason)", "",
                        "File: \(library.configURL(name: name).path)", "",
                        "Press e to repair it in the wizard (when the file can be read), fix the file by hand, or press d to delete the VM."]
            for (i, paragraph) in text.enumerated() {
                for line in TextWrap.lines(paragraph, width: rect.width) where y < rect.maxY {
                    canvas.text(line, x: rect.x, y: y, style: i == 1 ? errorStyle : window)
                    y += 1
                }
            }
        }
    }
}
