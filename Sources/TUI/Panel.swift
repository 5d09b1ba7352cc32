/// A screen or a modal on the screen stack (htop/nemu style): it draws itself and answers keys.
public protocol Panel: AnyObject {
    func draw(on canvas: Canvas, styles: ThemeStyles)
    func handle(_ key: KeyEvent) -> EventResult
}
