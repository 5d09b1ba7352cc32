/// A key on the guest's PC keyboard (US layout), with its PS/2 scancodes. The console turns
/// terminal input into these; the i8042 sends their set-2 codes, translated to set 1 when the
/// guest enables translation (as SeaBIOS does).
public enum GuestKey: CaseIterable, Sendable {
    case escape, backspace, tab, enter, space
    case digit1, digit2, digit3, digit4, digit5, digit6, digit7, digit8, digit9, digit0
    case minus, equals, leftBracket, rightBracket, semicolon, apostrophe, grave, backslash
    case comma, period, slash
    case a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p, q, r, s, t, u, v, w, x, y, z
    case f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12
    case leftShift, rightShift, leftCtrl, rightCtrl, leftAlt, rightAlt, capsLock
    case up, down, left, right, home, end, pageUp, pageDown, insert, delete

    /// Extended keys send an 0xE0 prefix in both sets.
    public var isExtended: Bool {
        switch self {
        case .rightCtrl, .rightAlt, .up, .down, .left, .right, .home, .end, .pageUp, .pageDown, .insert, .delete:
            return true
        default:
            return false
        }
    }

    /// The set-1 make code without the E0 prefix; the break code adds 0x80.
    public var set1: UInt8 {
        switch self {
        case .escape: 0x01
        case .digit1: 0x02; case .digit2: 0x03; case .digit3: 0x04; case .digit4: 0x05; case .digit5: 0x06
        case .digit6: 0x07; case .digit7: 0x08; case .digit8: 0x09; case .digit9: 0x0A; case .digit0: 0x0B
        case .minus: 0x0C; case .equals: 0x0D; case .backspace: 0x0E; case .tab: 0x0F
        case .q: 0x10; case .w: 0x11; case .e: 0x12; case .r: 0x13; case .t: 0x14; case .y: 0x15
        case .u: 0x16; case .i: 0x17; case .o: 0x18; case .p: 0x19
        case .leftBracket: 0x1A; case .rightBracket: 0x1B; case .enter: 0x1C
        case .leftCtrl, .rightCtrl: 0x1D
        case .a: 0x1E; case .s: 0x1F; case .d: 0x20; case .f: 0x21; case .g: 0x22; case .h: 0x23
        case .j: 0x24; case .k: 0x25; case .l: 0x26
        case .semicolon: 0x27; case .apostrophe: 0x28; case .grave: 0x29; case .leftShift: 0x2A; case .backslash: 0x2B
        case .z: 0x2C; case .x: 0x2D; case .c: 0x2E; case .v: 0x2F; case .b: 0x30; case .n: 0x31; case .m: 0x32
        case .comma: 0x33; case .period: 0x34; case .slash: 0x35; case .rightShift: 0x36
        case .leftAlt, .rightAlt: 0x38
        case .space: 0x39; case .capsLock: 0x3A
        case .f1: 0x3B; case .f2: 0x3C; case .f3: 0x3D; case .f4: 0x3E; case .f5: 0x3F
        case .f6: 0x40; case .f7: 0x41; case .f8: 0x42; case .f9: 0x43; case .f10: 0x44
        case .f11: 0x57; case .f12: 0x58
        case .home: 0x47; case .up: 0x48; case .pageUp: 0x49; case .left: 0x4B; case .right: 0x4D
        case .end: 0x4F; case .down: 0x50; case .pageDown: 0x51; case .insert: 0x52; case .delete: 0x53
        }
    }

    /// The set-2 make code without the E0 prefix; the break code is F0 followed by it.
    public var set2: UInt8 {
        switch self {
        case .escape: 0x76
        case .digit1: 0x16; case .digit2: 0x1E; case .digit3: 0x26; case .digit4: 0x25; case .digit5: 0x2E
        case .digit6: 0x36; case .digit7: 0x3D; case .digit8: 0x3E; case .digit9: 0x46; case .digit0: 0x45
        case .minus: 0x4E; case .equals: 0x55; case .backspace: 0x66; case .tab: 0x0D
        case .q: 0x15; case .w: 0x1D; case .e: 0x24; case .r: 0x2D; case .t: 0x2C; case .y: 0x35
        case .u: 0x3C; case .i: 0x43; case .o: 0x44; case .p: 0x4D
        case .leftBracket: 0x54; case .rightBracket: 0x5B; case .enter: 0x5A
        case .leftCtrl, .rightCtrl: 0x14
        case .a: 0x1C; case .s: 0x1B; case .d: 0x23; case .f: 0x2B; case .g: 0x34; case .h: 0x33
        case .j: 0x3B; case .k: 0x42; case .l: 0x4B
        case .semicolon: 0x4C; case .apostrophe: 0x52; case .grave: 0x0E; case .leftShift: 0x12; case .backslash: 0x5D
        case .z: 0x1A; case .x: 0x22; case .c: 0x21; case .v: 0x2A; case .b: 0x32; case .n: 0x31; case .m: 0x3A
        case .comma: 0x41; case .period: 0x49; case .slash: 0x4A; case .rightShift: 0x59
        case .leftAlt, .rightAlt: 0x11
        case .space: 0x29; case .capsLock: 0x58
        case .f1: 0x05; case .f2: 0x06; case .f3: 0x04; case .f4: 0x0C; case .f5: 0x03
        case .f6: 0x0B; case .f7: 0x83; case .f8: 0x0A; case .f9: 0x01; case .f10: 0x09
        case .f11: 0x78; case .f12: 0x07
        case .home: 0x6C; case .up: 0x75; case .pageUp: 0x7D; case .left: 0x6B; case .right: 0x74
        case .end: 0x69; case .down: 0x72; case .pageDown: 0x7A; case .insert: 0x70; case .delete: 0x71
        }
    }

    public func set1Bytes(pressed: Bool) -> [UInt8] {
        let code = pressed ? set1 : set1 | 0x80
        return isExtended ? [0xE0, code] : [code]
    }

    public func set2Bytes(pressed: Bool) -> [UInt8] {
        (isExtended ? [0xE0] : []) + (pressed ? [set2] : [0xF0, set2])
    }
}

/// A key press as the user meant it: a key plus the modifiers held around it.
public struct GuestKeyStroke: Equatable, Sendable {
    public var key: GuestKey
    public var shift = false
    public var ctrl = false
    public var alt = false

    public init(_ key: GuestKey, shift: Bool = false, ctrl: Bool = false, alt: Bool = false) {
        self.key = key
        self.shift = shift
        self.ctrl = ctrl
        self.alt = alt
    }

    /// Press the modifiers, press and release the key, release the modifiers (reverse order).
    public var events: [(key: GuestKey, pressed: Bool)] {
        let modifiers: [GuestKey] = (ctrl ? [.leftCtrl] : []) + (alt ? [.leftAlt] : []) + (shift ? [.leftShift] : [])
        return modifiers.map { ($0, true) } + [(key, true), (key, false)] + modifiers.reversed().map { ($0, false) }
    }

    /// The set-2 byte stream a PS/2 keyboard sends for this stroke.
    public var set2Bytes: [UInt8] { events.flatMap { $0.key.set2Bytes(pressed: $0.pressed) } }
    /// The set-1 byte stream the guest reads from port 0x60 with translation on.
    public var set1Bytes: [UInt8] { events.flatMap { $0.key.set1Bytes(pressed: $0.pressed) } }
}
