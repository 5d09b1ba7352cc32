/// A UTC calendar date and time, converted to and from Unix seconds with the proleptic
/// Gregorian day-count formulas (no Foundation, so it is exact and cheap inside the RTC).
public struct CivilTime: Equatable, Sendable {
    public var year, month, day, hour, minute, second: Int
    /// 0 = Sunday.
    public var weekday: Int { Int(((daysSinceEpoch % 7) + 11) % 7) }

    public init(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int) {
        (self.year, self.month, self.day) = (year, month, day)
        (self.hour, self.minute, self.second) = (hour, minute, second)
    }

    public init(unixSeconds: Int64) {
        let days = Int64((Double(unixSeconds) / 86400).rounded(.down))
        let secs = Int(unixSeconds - days * 86400)
        // Shift the epoch to 0000-03-01 so leap days fall at the end of each 400-year era.
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        self.init(year: Int(yoe + era * 400 + (m <= 2 ? 1 : 0)), month: Int(m), day: Int(d),
                  hour: secs / 3600, minute: secs / 60 % 60, second: secs % 60)
    }

    var daysSinceEpoch: Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = Int64(month > 2 ? month - 3 : month + 9)
        let doy = (153 * mp + 2) / 5 + Int64(day) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    public var unixSeconds: Int64 {
        daysSinceEpoch * 86400 + Int64(hour * 3600 + minute * 60 + second)
    }
}
