/// A daily span of local time when the speaker stays silent (except to acknowledge an emergency call), such as
/// 22:00 to 07:00. Minutes of the day, 0…1439; the span may cross midnight; `start == end` is never quiet.
public struct QuietHours: Sendable, Hashable {
    /// First quiet minute of the day, 0…1439.
    public var start: Int
    /// First minute that is no longer quiet, 0…1439.
    public var end: Int

    /// Quiet from `start` to `end`, minutes of the day.
    public init(start: Int, end: Int) {
        self.start = start
        self.end = end
    }

    /// Whether `minuteOfDay` (local time, 0…1439) is inside.
    public func contains(minuteOfDay: Int) -> Bool {
        if start <= end { return minuteOfDay >= start && minuteOfDay < end }
        return minuteOfDay >= start || minuteOfDay < end
    }

    /// Parses `"HH:MM-HH:MM"`.
    public init?(_ text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, let start = Self.minute(parts[0]), let end = Self.minute(parts[1]) else { return nil }
        self.init(start: start, end: end)
    }

    static func minute(_ text: Substring) -> Int? {
        let fields = text.split(separator: ":", omittingEmptySubsequences: false)
        guard fields.count == 2, fields[0].count == 2, fields[1].count == 2,
            fields.allSatisfy({ $0.utf8.allSatisfy { (0x30...0x39).contains($0) } }),
            let hour = Int(fields[0]), let minute = Int(fields[1]), hour < 24, minute < 60
        else { return nil }
        return hour * 60 + minute
    }

    /// `"HH:MM-HH:MM"`.
    public var description: String {
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(two(start / 60)):\(two(start % 60))-\(two(end / 60)):\(two(end % 60))"
    }
}
