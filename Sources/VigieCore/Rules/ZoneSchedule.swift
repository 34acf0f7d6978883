/// When a zone's rule is armed, in local wall-clock time: weekly ranges plus whole days (holidays).
///
/// A range is written `"<days> <HH:MM>-<HH:MM>"`: days are `mon` … `sun`, a span `mon-fri` (it may wrap: `fri-mon`)
/// or a comma-separated list of both (`mon,wed,fri-sun`); the end may be `24:00`. A range whose end is not after
/// its start crosses midnight: `mon-fri 18:00-07:30` is armed from each of those evenings to the next morning
/// (Friday's night ends Saturday 07:30); equal ends mean 24 hours from the start. `holidays` are `YYYY-MM-DD` dates armed all day, like a school closed.
public struct ZoneSchedule: Sendable, Hashable {
    /// One weekly range: starts on each of `days` at `start` minutes and lasts until `end` (the next day when
    /// `end <= start`).
    public struct Range: Sendable, Hashable {
        /// Bit `d` set for weekday `d` (0 = Monday).
        public var days: UInt8
        /// Minutes from midnight, 0 ..< 1440.
        public var start: Int
        /// Minutes from midnight, 1 ... 1440.
        public var end: Int
    }

    /// Why a range or a date was refused.
    public struct SyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
        public var description: String
    }

    /// `nil`: no schedule, always armed.
    public var ranges: [Range]?
    /// Days since 1970-01-01 of the holiday dates.
    public var holidays: Set<Int>

    /// Armed at every moment.
    public static let always = ZoneSchedule(ranges: nil, holidays: [])

    public init(ranges: [Range]?, holidays: Set<Int>) {
        self.ranges = ranges
        self.holidays = holidays
    }

    /// Parses the written ranges and holiday dates (see the type's description).
    public init(ranges texts: [String], holidays dates: [String]) throws(SyntaxError) {
        var ranges: [Range] = []
        for text in texts { ranges.append(try Self.parseRange(text)) }
        var holidays: Set<Int> = []
        for text in dates {
            guard let date = LocalTime.parseDate(text) else {
                throw SyntaxError(description: "'\(text)' is not a date YYYY-MM-DD")
            }
            holidays.insert(LocalTime.daysFromCivil(year: date.year, month: date.month, day: date.day))
        }
        self.init(ranges: ranges, holidays: holidays)
    }

    /// Whether the zone is armed at `time`; `nil` (no clock given) counts as armed.
    public func isArmed(at time: LocalTime?) -> Bool {
        guard let ranges, let time else { return true }
        let day = time.dayNumber
        if holidays.contains(day) { return true }
        let weekday = time.weekday
        let yesterday = (weekday + 6) % 7
        let minute = time.minuteOfDay
        for range in ranges {
            if range.end > range.start {
                if range.days & (1 << weekday) != 0 && minute >= range.start && minute < range.end { return true }
            } else {
                if range.days & (1 << weekday) != 0 && minute >= range.start { return true }
                if range.days & (1 << yesterday) != 0 && minute < range.end { return true }
            }
        }
        return false
    }

    static let dayNames = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]

    static func parseRange(_ text: String) throws(SyntaxError) -> Range {
        let parts = text.split(separator: " ", omittingEmptySubsequences: true)
        let example = "e.g. \"mon-fri 18:00-07:30\""
        guard parts.count == 2 else {
            throw SyntaxError(description: "'\(text)' is not '<days> <HH:MM>-<HH:MM>' (\(example))")
        }
        var days: UInt8 = 0
        for item in parts[0].split(separator: ",", omittingEmptySubsequences: false) {
            let ends = item.split(separator: "-", omittingEmptySubsequences: false)
            guard (1...2).contains(ends.count),
                let first = dayNames.firstIndex(of: ends[0].lowercased()),
                let last = dayNames.firstIndex(of: ends[ends.count - 1].lowercased())
            else {
                throw SyntaxError(
                    description: "'\(item)' in '\(text)' is not a day (mon … sun) or a span of days (mon-fri)")
            }
            var day = first
            while true {
                days |= 1 << day
                if day == last { break }
                day = (day + 1) % 7
            }
        }
        let times = parts[1].split(separator: "-", omittingEmptySubsequences: false)
        guard times.count == 2, let start = minutes(times[0], allowEndOfDay: false),
            let end = minutes(times[1], allowEndOfDay: true)
        else {
            throw SyntaxError(description: "'\(parts[1])' in '\(text)' is not a time range HH:MM-HH:MM (\(example))")
        }
        return Range(days: days, start: start, end: end)
    }

    /// `HH:MM` as minutes from midnight; `24:00` only as an end.
    private static func minutes(_ text: Substring, allowEndOfDay: Bool) -> Int? {
        let fields = text.split(separator: ":", omittingEmptySubsequences: false)
        guard fields.count == 2, fields[0].count == 2, fields[1].count == 2,
            fields.allSatisfy({ $0.allSatisfy { $0.isASCII && $0.isNumber } }),
            let hour = Int(fields[0]), let minute = Int(fields[1]), (0...59).contains(minute)
        else { return nil }
        if hour == 24 && minute == 0 && allowEndOfDay { return 1440 }
        guard (0...23).contains(hour) else { return nil }
        return hour * 60 + minute
    }
}
