import Engine
import TUI

/// The engine's screen snapshot is what the console pane draws; TextScreen already has every
/// member, so this also checks at compile time that the two stay in step.
extension TextScreen: ConsoleContent {}
