/// Runs a stack of panels: draws them bottom to top, gives keys to the top one. Below the
/// minimum size it shows what size is needed instead of a broken layout.
public final class Application {
    public private(set) var stack: [any Panel]
    public var styles: ThemeStyles
    public var minimumSize = (width: 80, height: 24)
    /// Live content (running VMs): polled every `refreshMilliseconds` while no key arrives; the
    /// screen is redrawn only when the value changes, so a still guest costs almost nothing.
    public var liveVersion: (() -> UInt64)?
    public var refreshMilliseconds = 33
    /// The poll interval for a moment after each key, so what the key does (a guest's echo)
    /// shows within a few milliseconds, not up to a whole refresh later.
    public var typingRefreshMilliseconds = 4
    static let typingWindow = Duration.milliseconds(250)

    public init(root: any Panel, styles: ThemeStyles) {
        stack = [root]
        self.styles = styles
    }

    /// The frame for a screen of this size.
    public func render(width: Int, height: Int) -> Canvas {
        let canvas = Canvas(width: width, height: height)
        canvas.fill(canvas.bounds, style: styles[.background])
        if width < minimumSize.width || height < minimumSize.height {
            let lines = TextWrap.lines("Terminal too small: \(width)x\(height). vmtui needs at least "
                + "\(minimumSize.width)x\(minimumSize.height); enlarge the window (q quits).", width: max(width - 2, 1))
            for (i, line) in lines.enumerated() {
                canvas.text(line, x: max((width - Canvas.columns(of: line)) / 2, 0), y: height / 2 - lines.count / 2 + i,
                            style: styles.bold(.error))
            }
            return canvas
        }
        for panel in stack { panel.draw(on: canvas, styles: styles) }
        return canvas
    }

    /// Puts a panel on top, e.g. a notice to show before the first key.
    public func open(_ panel: any Panel) { stack.append(panel) }

    /// Gives a key to the top panel and applies the result; returns false when vmtui should quit.
    public func send(_ key: KeyEvent) -> Bool {
        if key == .resize { return true }
        // Ctrl-C leaves from anywhere but a guest console (whose guest gets it); nothing half-done
        // is ever written (wizards commit at the end).
        guard let top = stack.last else { return false }
        if key == .ctrl("c"), !top.capturesAllKeys { return false }
        switch top.handle(key) {
        case .handled, .ignored: break
        case .quit: return false
        case .close: if stack.count > 1 { stack.removeLast() } else { return false }
        case let .open(panel): stack.append(panel)
        }
        return true
    }

    /// The interactive loop: draw, wait for a key, repeat until a panel quits.
    public func run(on terminal: Terminal) {
        var drawn: (version: UInt64?, width: Int, height: Int)?
        var lastKey = ContinuousClock.now - Application.typingWindow
        while true {
            let size = terminal.size
            let version = liveVersion?()
            if drawn.map({ $0 != (version, size.width, size.height) }) ?? true {
                terminal.draw(render(width: size.width, height: size.height))
                drawn = (version, size.width, size.height)
            }
            let typing = ContinuousClock.now - lastKey < Application.typingWindow
            guard let key = terminal.readKey(timeoutMilliseconds: liveVersion == nil ? nil : typing ? typingRefreshMilliseconds : refreshMilliseconds)
            else { continue }
            lastKey = .now
            drawn = nil
            if size.width < minimumSize.width || size.height < minimumSize.height {
                if key == .char("q") || key == .ctrl("c") { return }
                continue
            }
            if !send(key) { return }
        }
    }
}
