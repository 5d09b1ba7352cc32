import Foundation

/// Sizes as people write them: "20G", "512M", "1.5GiB", "4096" (bytes need a B: "4096B").
/// A bare number means MiB, as memory and small disks are usually given.
public enum ByteSize {
    public static func parse(_ text: String) -> UInt64? {
        let t = text.trimmingCharacters(in: .whitespaces).uppercased()
        let digits = t.prefix { $0.isNumber || $0 == "." }
        guard !digits.isEmpty, let number = Double(digits), number > 0 else { return nil }
        var unit = String(t.dropFirst(digits.count)).trimmingCharacters(in: .whitespaces)
        if unit.hasSuffix("IB") { unit.removeLast(2) } else if unit.count > 1, unit.hasSuffix("B") { unit.removeLast() }
        let shift: UInt64
        switch unit {
        case "B": shift = 0
        case "K": shift = 10
        case "", "M": shift = 20
        case "G": shift = 30
        case "T": shift = 40
        default: return nil
        }
        let bytes = number * Double(UInt64(1) << shift)
        guard bytes >= 1, bytes < Double(UInt64(1) << 62) else { return nil }
        return UInt64(bytes.rounded())
    }

    /// "20 GiB", "512 MiB", "1.5 GiB".
    public static func format(_ bytes: UInt64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes)
        var index = 0
        while value >= 1024, index < units.count - 1 { value /= 1024; index += 1 }
        let text = value == value.rounded() ? String(Int(value)) : String(format: "%.1f", value)
        return "\(text) \(units[index])"
    }
}
