extension GuestKey {
    /// The i8042's set-2 to set-1 translation, built from the keys' own codes so that there is
    /// one scancode table: a set-2 byte indexes its set-1 code, 0 where no key sends it.
    static let set2ToSet1: [UInt8] = {
        var table = [UInt8](repeating: 0, count: 256)
        for key in GuestKey.allCases { table[Int(key.set2)] = key.set1 }
        return table
    }()

    /// The translation of one set-2 byte; prefixes (E0, E1) and keyboard replies (FA, AA, EE)
    /// pass through unchanged. The controller itself folds F0 into bit 7 of the next code.
    public static func translateToSet1(_ set2: UInt8) -> UInt8 {
        let set1 = set2ToSet1[Int(set2)]
        return set1 != 0 ? set1 : set2
    }
}
