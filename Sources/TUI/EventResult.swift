/// What a panel did with a key; the Application redraws after every handled key.
public enum EventResult {
    case handled
    case ignored
    /// Leave vmtui.
    case quit
    /// Remove this panel (a dialog or wizard that is done).
    case close
    /// Put a panel on top (a dialog, the wizard, help).
    case open(any Panel)
}
