extension GuestKeyStroke {
    /// The set-2 bytes a PS/2 keyboard sends to type `text` on a US layout (`vmtui run --type`,
    /// tests). Each Unicode scalar is one stroke, so "\r\n" is two; characters without a key
    /// are skipped.
    public static func set2Bytes(typing text: String) -> [UInt8] {
        text.unicodeScalars.compactMap { GuestKeyStroke(typing: Character($0)) }.flatMap(\.set2Bytes)
    }
}
