#if canImport(Glibc)
import Glibc
#endif

/// Puts the terminal on standard input into raw-ish mode while a guest's serial port owns it
/// (`--serial stdio`), as QEMU's stdio chardev does: keys reach the guest as typed (no line
/// editing, no local echo, Enter as CR), while Ctrl-C still signals so the run powers off
/// cleanly. Output processing stays on. Does nothing when stdin is not a terminal, or when this
/// process runs in the background (changing the terminal there would stop it with SIGTTOU).
/// `vmtui console` passes `signals: false`: Ctrl-C and Ctrl-Z go to the guest too.
public final class TerminalRawMode {
    private var saved: termios?

    public init(signals: Bool = true) {
        guard isatty(STDIN_FILENO) == 1, tcgetpgrp(STDIN_FILENO) == getpgrp() else { return }
        var settings = termios()
        guard tcgetattr(STDIN_FILENO, &settings) == 0 else { return }
        saved = settings
        settings.c_lflag &= ~tcflag_t(ICANON | ECHO | ECHONL | IEXTEN | (signals ? 0 : ISIG))
        settings.c_iflag &= ~tcflag_t(ICRNL | INLCR | IGNCR | IXON)
        tcsetattr(STDIN_FILENO, TCSANOW, &settings)
    }

    /// Puts the terminal back as it was; safe to call more than once.
    public func restore() {
        guard var settings = saved else { return }
        tcsetattr(STDIN_FILENO, TCSANOW, &settings)
        saved = nil
    }

    deinit { restore() }
}
