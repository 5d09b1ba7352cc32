/// Where two byte buffers first differ, or nil when they are equal. For `#expect` on large
/// buffers: `#expect(a == b)` on arrays diffs them when they differ, which for 256 KiB took
/// longer than the whole test run (Swift Testing's Myers difference in CI).
public func byteMismatch(_ got: [UInt8], _ want: [UInt8]) -> String? {
    if got == want { return nil }
    guard got.count == want.count else { return "\(got.count) bytes, \(want.count) expected" }
    let at = got.indices.first { got[$0] != want[$0] }!
    return "byte \(at): \(got[at]), \(want[at]) expected (\(zip(got, want).filter { $0 != $1 }.count) bytes differ)"
}
