/// Unique, time-sortable identifiers for events (the ULID layout: 48 bits of milliseconds, then 80 bits
/// that increase within a millisecond), as 26 Crockford base-32 characters. The centre de-duplicates by them.
public struct EventIDGenerator: Sendable {
    private var lastMillis: Int64 = -1
    private var high: UInt16 = 0
    private var low: UInt64 = 0
    private var random = SystemRandomNumberGenerator()

    public init() {}

    /// A new identifier for the given time (milliseconds since the Unix epoch).
    public mutating func next(millis: Int64) -> String {
        if millis > lastMillis {
            lastMillis = millis
            high = UInt16.random(in: 0...UInt16.max, using: &random) & 0x7FFF  // room to count up
            low = UInt64.random(in: 0...UInt64.max, using: &random)
        } else {
            // Same (or an earlier, after a clock step) millisecond: keep order by counting up.
            let (sum, overflow) = low.addingReportingOverflow(1)
            low = sum
            if overflow { high &+= 1 }
        }
        return Self.encode(millis: lastMillis, high: high, low: low)
    }

    static let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ".utf8)

    static func encode(millis: Int64, high: UInt16, low: UInt64) -> String {
        // 128 bits: 48 time | 16 high | 64 low, written as 26 characters of 5 bits (the first carries 3).
        var bytes = [UInt8](repeating: 0, count: 26)
        var time = UInt64(bitPattern: millis) & 0xFFFF_FFFF_FFFF
        for index in stride(from: 9, through: 0, by: -1) {
            bytes[index] = alphabet[Int(time & 31)]
            time >>= 5
        }
        // The remaining 80 bits as 16 characters.
        var value = (UInt128(high) << 64) | UInt128(low)
        for index in stride(from: 25, through: 10, by: -1) {
            bytes[index] = alphabet[Int(value & 31)]
            value >>= 5
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// RFC 3339 time with milliseconds, in UTC, from milliseconds since the Unix epoch.
public enum Timestamp {
    /// `20261130T142501.123Z`: for file names (no colon), sorts in time order.
    public static func compact(millis: Int64) -> String {
        String(rfc3339(millis: millis).filter { $0 != "-" && $0 != ":" })
    }

    public static func rfc3339(millis: Int64) -> String {
        let seconds = millis / 1000
        let milliseconds = Int(millis % 1000)
        var days = seconds / 86_400
        let secondOfDay = Int(seconds % 86_400)
        // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
        days += 719_468
        let era = (days >= 0 ? days : days - 146_096) / 146_097
        let dayOfEra = days - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let millisText =
            milliseconds < 10 ? "00\(milliseconds)" : milliseconds < 100 ? "0\(milliseconds)" : "\(milliseconds)"
        return "\(year)-\(two(Int(month)))-\(two(Int(day)))T\(two(secondOfDay / 3600)):\(two(secondOfDay / 60 % 60)):"
            + "\(two(secondOfDay % 60)).\(millisText)Z"
    }
}
