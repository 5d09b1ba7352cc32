import Engine

extension TextScreen {
    /// The screen as `run --headless` and `vmtui screen` print it: plain text, or what shows instead.
    var report: String {
        switch mode {
        case .text: return plainText
        case .graphics(let w, let h, let bpp): return "[guest is in graphics mode \(w)x\(h), \(bpp) bpp]"
        case .blank: return "[display not initialised]"
        }
    }
}
