/// A moment of local wall-clock time, as schedules read it: the caller says what time it is (the daemon from the
/// system clock and the time zone, `vigie analyze` from `--start`, tests from a test clock); the core never reads a
/// clock itself.
public struct LocalTime: Sendable, Hashable, Comparable {
    /// Seconds since 1970-01-01 00:00 *local* time (UTC seconds plus the zone's offset at that moment).
    public var seconds: Double

    public init(seconds: Double) { self.seconds = seconds }

    /// The local time of a civil date and time of day.
    public init(year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0, second: Double = 0) {
        let days = Self.daysFromCivil(year: year, month: month, day: day)
        seconds = Double(days) * 86_400 + Double(hour * 3600 + minute * 60) + second
    }

    /// `seconds` later (frame times are seconds from the start of a stream).
    public func advanced(by seconds: Double) -> LocalTime { LocalTime(seconds: self.seconds + seconds) }

    /// Days since 1970-01-01.
    public var dayNumber: Int { Int((seconds / 86_400).rounded(.down)) }
    /// 0 = Monday … 6 = Sunday (1970-01-01 was a Thursday).
    public var weekday: Int { ((dayNumber + 3) % 7 + 7) % 7 }
    /// Minutes since local midnight, 0 ..< 1440.
    public var minuteOfDay: Int { Int((seconds - Double(dayNumber) * 86_400) / 60) }
    /// The civil date.
    public var date: (year: Int, month: Int, day: Int) { Self.civil(fromDays: dayNumber) }

    public static func < (lhs: LocalTime, rhs: LocalTime) -> Bool { lhs.seconds < rhs.seconds }

    /// Parses `YYYY-MM-DDTHH:MM[:SS]` (or with a space), or `YYYY-MM-DD` for midnight.
    public init?(parsing text: String) {
        let parts = text.split(whereSeparator: { $0 == "T" || $0 == " " })
        guard parts.count == 1 || parts.count == 2, let date = Self.parseDate(String(parts[0])) else { return nil }
        var hour = 0
        var minute = 0
        var second = 0
        if parts.count == 2 {
            let fields = parts[1].split(separator: ":", omittingEmptySubsequences: false)
            guard fields.count == 2 || fields.count == 3,
                fields.allSatisfy({ $0.count == 2 && $0.allSatisfy(\.isASCII) }),
                let h = Int(fields[0]), let m = Int(fields[1]), (0...23).contains(h), (0...59).contains(m)
            else { return nil }
            hour = h
            minute = m
            if fields.count == 3 {
                guard let s = Int(fields[2]), (0...59).contains(s) else { return nil }
                second = s
            }
        }
        self.init(year: date.year, month: date.month, day: date.day, hour: hour, minute: minute, second: Double(second))
    }

    /// Parses `YYYY-MM-DD`, a real date of the Gregorian calendar between 1970 and 9999.
    public static func parseDate(_ text: String) -> (year: Int, month: Int, day: Int)? {
        let fields = text.split(separator: "-", omittingEmptySubsequences: false)
        guard fields.count == 3, fields[0].count == 4, fields[1].count == 2, fields[2].count == 2,
            fields.allSatisfy({ $0.allSatisfy { $0.isASCII && $0.isNumber } }),
            let year = Int(fields[0]), let month = Int(fields[1]), let day = Int(fields[2]),
            (1970...9999).contains(year), (1...12).contains(month), day >= 1
        else { return nil }
        let days = Self.daysFromCivil(year: year, month: month, day: day)
        guard Self.civil(fromDays: days) == (year, month, day) else { return nil }
        return (year, month, day)
    }

    /// Howard Hinnant's `days_from_civil`: days since 1970-01-01 of a proleptic Gregorian date.
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The inverse of `daysFromCivil`.
    static func civil(fromDays days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
