/// A screen or a modal on the screen stack (htop/nemu style): it draws itself and answers keys.
public protocol Panel: AnyObject {
    func draw(on canvas: Canvas, styles: ThemeStyles)
    func handle(_ key: KeyEvent) -> EventResult
    /// True while the panel wants every key, Ctrl-C included (a guest console with the keyboard).
    var capturesAllKeys: Bool { get }
}

extension Panel {
    public var capturesAllKeys: Bool { false }
}
