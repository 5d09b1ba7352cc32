import CNcurses
import Foundation

/// The ncurses session: set-up and restoring the terminal, drawing a Canvas by changed cells
/// only, and reading keys. Only one may exist at a time.
public final class Terminal {
    public private(set) var depth: ColorDepth = .monochrome
    /// False when the locale cannot show UTF-8; then non-ASCII is drawn through ASCIIFallback.
    public let utf8: Bool
    private var lastFrame: [Cell] = []
    private var lastSize = (width: 0, height: 0)
    private var pairs: [PairKey: Int16] = [:]
    private var nextPair: Int16 = 1
    private let maxPairs: Int
    private let screen: OpaquePointer

    private struct PairKey: Hashable { var fg: Int, bg: Int }

    /// Enters curses mode: raw keys (Ctrl-C is a key, not a signal), no echo, keypad decoding,
    /// a 25 ms ESCDELAY so a lone Esc feels immediate, and colours if the terminal has them.
    public init() throws {
        setlocale(LC_ALL, "")
        utf8 = String(cString: nl_langinfo(nl_item(CODESET))) == "UTF-8"
        guard isatty(STDIN_FILENO) == 1, isatty(STDOUT_FILENO) == 1 else {
            throw TerminalError(message: "the interactive screen needs a terminal; use the subcommands (vmtui --help) in scripts")
        }
        // newterm, unlike initscr, returns an error instead of exiting on an unknown TERM.
        let term = ProcessInfo.processInfo.environment["TERM"] ?? ""
        guard !term.isEmpty, let output = fdopen(STDOUT_FILENO, "w"), let input = fdopen(STDIN_FILENO, "r"),
              let screen = newterm(nil, output, input) else {
            throw TerminalError(message: "cannot use the terminal type TERM=\(term.isEmpty ? "(unset)" : term); "
                                + "set TERM to one this system knows (e.g. xterm-256color) or use the subcommands")
        }
        self.screen = screen
        raw()
        noecho()
        nonl()
        keypad(cn_stdscr(), true)
        KeySequences.install()
        cn_set_escdelay(25)
        curs_set(0)
        if has_colors() {
            start_color()
            use_default_colors()
            depth = ColorDepth(terminalColors: Int(cn_colors()))
        }
        maxPairs = Int(min(cn_color_pairs(), 32767))
        // A signal that ends vmtui must not leave the terminal in raw mode.
        for sig in [SIGTERM, SIGHUP, SIGQUIT] {
            signal(sig) { code in
                endwin()
                _exit(128 + code)
            }
        }
    }

    deinit {
        endwin()
        delscreen(screen)
    }

    public var size: (width: Int, height: Int) {
        var h: Int32 = 0, w: Int32 = 0
        cn_getmaxyx(cn_stdscr(), &h, &w)
        return (Int(w), Int(h))
    }

    /// Draws the canvas, sending only cells that changed since the last frame.
    public func draw(_ canvas: Canvas) {
        let full = lastSize != (canvas.width, canvas.height) || lastFrame.count != canvas.cells.count
        if full {
            wclear(cn_stdscr())
            lastFrame = []
            lastSize = (canvas.width, canvas.height)
        }
        for y in 0..<canvas.height {
            for x in 0..<canvas.width {
                let index = y * canvas.width + x
                let cell = canvas.cells[index]
                if !full, lastFrame[index] == cell { continue }
                if cell.scalar == Cell.continuation { continue }
                let (attrs, pair) = rendition(cell.style)
                let scalar = utf8 ? cell.scalar : ASCIIFallback.character(cell.scalar)
                _ = cn_put_wch(Int32(y), Int32(x), wchar_t(bitPattern: scalar.value), attrs, pair)
            }
        }
        lastFrame = canvas.cells
        if let cursor = canvas.cursor {
            wmove(cn_stdscr(), Int32(cursor.y), Int32(cursor.x))
            curs_set(canvas.cursorBlock ? 2 : 1)
        } else {
            curs_set(0)
        }
        wrefresh(cn_stdscr())
    }

    /// Forgets the last frame so the next draw repaints everything (after a resize or a shell-out).
    public func invalidate() { lastFrame = [] }

    /// Waits for a key; `timeoutMilliseconds` nil blocks. Returns nil on timeout or an unknown key.
    public func readKey(timeoutMilliseconds: Int? = nil) -> KeyEvent? {
        wtimeout(cn_stdscr(), Int32(timeoutMilliseconds ?? -1))
        var value: wint_t = 0
        let result = wget_wch(cn_stdscr(), &value)
        if result == cn_err() { return nil }
        let event = KeyDecoder.decode(isKeyCode: result == KEY_CODE_YES, value: UInt32(value))
        if event == .resize { invalidate() }
        if event == .escape { return altKey() ?? .escape }
        return event
    }

    /// After an Esc, a character already waiting means Alt+character (the terminal sent both at
    /// once); anything else is put back so the lone Esc stays a key without extra delay.
    private func altKey() -> KeyEvent? {
        wtimeout(cn_stdscr(), 0)
        var value: wint_t = 0
        let result = wget_wch(cn_stdscr(), &value)
        if result == cn_err() { return nil }
        if result == KEY_CODE_YES {
            ungetch(Int32(bitPattern: UInt32(value)))
            return nil
        }
        if case .char(let c)? = KeyDecoder.decode(isKeyCode: false, value: UInt32(value)) { return .alt(c) }
        unget_wch(wchar_t(bitPattern: UInt32(value)))
        return nil
    }

    private func rendition(_ style: CellStyle) -> (attr_t, Int16) {
        var attrs = attr_t(cn_a_normal())
        if style.bold { attrs |= attr_t(cn_a_bold()) }
        if style.reverse { attrs |= attr_t(cn_a_reverse()) }
        if style.underline { attrs |= attr_t(cn_a_underline()) }
        if style.blink { attrs |= attr_t(cn_a_blink()) }
        guard depth != .monochrome, style.foreground >= 0 || style.background >= 0 else { return (attrs, 0) }
        let key = PairKey(fg: style.foreground, bg: style.background)
        if let pair = pairs[key] { return (attrs, pair) }
        guard Int(nextPair) < maxPairs else { return (attrs, 0) }
        let pair = nextPair
        init_pair(pair, Int16(style.foreground), Int16(style.background))
        pairs[key] = pair
        nextPair += 1
        return (attrs, pair)
    }
}
