import Foundation
import Testing
@testable import TUI

let shippedThemes = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../themes").standardized

func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("vmtui-themes-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

@Test(arguments: ["default", "dark", "light", "high-contrast", "monochrome"])
func shippedThemeLoadsWithEveryRole(_ name: String) throws {
    let data = try Data(contentsOf: shippedThemes.appendingPathComponent("\(name).json"))
    let object = try JSONSerialization.jsonObject(with: data) as? [String: Any]
    let roles = (object?["roles"] as? [String: Any])?.keys.sorted() ?? []
    #expect(roles == ThemeRole.allCases.map(\.rawValue).sorted())
    let (theme, warning) = ThemeStore(directories: [shippedThemes]).load(name: name)
    #expect(warning == nil)
    #expect(theme.name == name)
    // Selection must differ from the window it sits on, even with no colours at all.
    for depth in [ColorDepth.colors8, .monochrome] {
        let styles = theme.resolved(for: depth)
        #expect(styles[.selection] != styles[.window], "\(name) selection invisible at \(depth)")
    }
}

@Test func shippedDefaultMatchesTheBuiltInOne() {
    let (theme, _) = ThemeStore(directories: [shippedThemes]).load(name: "default")
    #expect(theme.styles == Theme.builtInDefault.styles)
}

@Test func userThemeOverridesAShippedOneByName() throws {
    let user = try temporaryDirectory()
    try Data(#"{"roles": {"title": {"fg": "magenta", "bg": 17, "attrs": ["underline"]}}}"#.utf8)
        .write(to: user.appendingPathComponent("dark.json"))
    let (theme, warning) = ThemeStore(directories: [user, shippedThemes]).load(name: "dark")
    #expect(warning == nil)
    #expect(theme[.title] == ThemeStyle(fg: .index(5), bg: .index(17), attrs: [.underline]))
    #expect(theme[.window] == Theme.builtInDefault[.window])  // roles left out come from the default
}

@Test func badThemeFallsBackToDefaultWithAReason() throws {
    let user = try temporaryDirectory()
    try Data(#"{"roles": {"title": {"fg": "chartreuse"}}}"#.utf8).write(to: user.appendingPathComponent("odd.json"))
    try Data(#"{"roles": {"titel": {"fg": "red"}}}"#.utf8).write(to: user.appendingPathComponent("typo.json"))
    let store = ThemeStore(directories: [user])
    let (theme, warning) = store.load(name: "odd")
    #expect(theme == Theme.builtInDefault)
    #expect(warning?.contains("odd.json") == true && warning?.contains("\"chartreuse\" is not a colour") == true)
    #expect(store.load(name: "typo").warning?.contains("roles.titel is not a role") == true)
    #expect(store.load(name: "nosuch").warning?.contains("no theme named \"nosuch\"") == true)
    #expect(store.names() == ["default", "odd", "typo"])
}

@Test func brightColoursDegradeOnEightColourTerminals() {
    let style = ThemeStyle(fg: .index(11), bg: .index(12))
    #expect(style.resolved(for: .colors16) == CellStyle(foreground: 11, background: 12))
    #expect(style.resolved(for: .colors8) == CellStyle(foreground: 3, background: 4, bold: true))
    #expect(style.resolved(for: .monochrome) == CellStyle(foreground: -1, background: -1, bold: true))
    let onBlue = ThemeStyle(fg: .index(7), bg: .index(4))
    #expect(onBlue.resolved(for: .monochrome) == CellStyle(foreground: -1, background: -1))
}

/// On a colourless terminal (vt100, xterm-mono) dialogs are not all reverse video: the focused
/// button (the selection) is, inside a plain dialog, for every shipped theme.
@Test(arguments: ["default", "dark", "light", "high-contrast", "monochrome"])
func focusedButtonStandsOutWithoutColour(_ name: String) {
    let styles = ThemeStore(directories: [shippedThemes]).load(name: name).theme.resolved(for: .monochrome)
    #expect(styles[.selection].reverse && !styles[.dialog].reverse, "\(name)")
    #expect(styles[.selection] != styles.bold(.dialog), "\(name)")
    #expect(styles[.input].underline, "\(name)")
}
