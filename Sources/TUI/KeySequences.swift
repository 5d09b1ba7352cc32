import CNcurses

/// Escape sequences terminals send for editing and function keys, taught to ncurses whatever
/// TERM says: tmux and screen send ESC [1~ / ESC [4~ for Home/End even when TERM=xterm-256color
/// (whose terminfo expects ESC OH / ESC OF), the Linux console sends ESC [[A for F1, rxvt
/// ESC [7~ for Home. Without them the keys arrive as Esc and literal characters ("1~").
enum KeySequences {
    static let all: [(sequence: String, key: Int32)] = [
        // Home / End: tmux, screen, Linux console, VT220; rxvt; xterm normal and application mode.
        ("\u{1B}[1~", KEY_HOME), ("\u{1B}[4~", KEY_END), ("\u{1B}[7~", KEY_HOME), ("\u{1B}[8~", KEY_END),
        ("\u{1B}[H", KEY_HOME), ("\u{1B}[F", KEY_END), ("\u{1B}OH", KEY_HOME), ("\u{1B}OF", KEY_END),
        ("\u{1B}[2~", KEY_IC), ("\u{1B}[3~", KEY_DC), ("\u{1B}[5~", KEY_PPAGE), ("\u{1B}[6~", KEY_NPAGE),
        // Arrows in normal and application cursor mode; Shift-Tab.
        ("\u{1B}[A", KEY_UP), ("\u{1B}[B", KEY_DOWN), ("\u{1B}[C", KEY_RIGHT), ("\u{1B}[D", KEY_LEFT),
        ("\u{1B}OA", KEY_UP), ("\u{1B}OB", KEY_DOWN), ("\u{1B}OC", KEY_RIGHT), ("\u{1B}OD", KEY_LEFT),
        ("\u{1B}[Z", KEY_BTAB),
        // F1-F4: xterm/VTE (ESC OP), rxvt/putty (ESC [11~), the Linux console (ESC [[A); F5-F12 as VT220.
        ("\u{1B}OP", cn_key_f(1)), ("\u{1B}OQ", cn_key_f(2)), ("\u{1B}OR", cn_key_f(3)), ("\u{1B}OS", cn_key_f(4)),
        ("\u{1B}[11~", cn_key_f(1)), ("\u{1B}[12~", cn_key_f(2)), ("\u{1B}[13~", cn_key_f(3)), ("\u{1B}[14~", cn_key_f(4)),
        ("\u{1B}[[A", cn_key_f(1)), ("\u{1B}[[B", cn_key_f(2)), ("\u{1B}[[C", cn_key_f(3)), ("\u{1B}[[D", cn_key_f(4)),
        ("\u{1B}[[E", cn_key_f(5)), ("\u{1B}[15~", cn_key_f(5)), ("\u{1B}[17~", cn_key_f(6)), ("\u{1B}[18~", cn_key_f(7)),
        ("\u{1B}[19~", cn_key_f(8)), ("\u{1B}[20~", cn_key_f(9)), ("\u{1B}[21~", cn_key_f(10)), ("\u{1B}[23~", cn_key_f(11)),
        ("\u{1B}[24~", cn_key_f(12)),
    ]

    /// Adds every sequence to the current screen's key table (define_key).
    static func install() {
        for (sequence, key) in all { _ = define_key(sequence, key) }
    }
}
