import Testing
@testable import TUI

@Test func linksWideNcurses() {
    #expect(TUI.ncursesVersion.hasPrefix("ncurses"))
}
