/// Parsers for the technician's query arguments (`vigie events`, `vigie export`): pure, with errors a person can
/// act on.
public enum QueryArguments {
    /// A time: RFC 3339 (`2026-11-30T14:25:00Z`, with optional fraction of a second and `+01:00`-style offset), a
    /// date (`2026-11-30`, midnight UTC), or a span before `now` (`90s`, `15m`, `2h`, `3d`). Returns milliseconds
    /// since the epoch, or why the text is not a time.
    public static func time(_ text: String, now: Int64) -> Result<Int64, QueryArgumentError> {
        let bytes = Array(text.utf8)
        let unitMillis: [UInt8: Int64] = [
            UInt8(ascii: "s"): 1000, UInt8(ascii: "m"): 60_000, UInt8(ascii: "h"): 3_600_000,
            UInt8(ascii: "d"): 86_400_000,
        ]
        if let last = bytes.last, let unit = unitMillis[last], bytes.count >= 2, bytes.count <= 8,
            bytes.dropLast().allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
            let amount = Int64(String(decoding: bytes.dropLast(), as: UTF8.self))
        {
            return .success(now - amount * unit)
        }
        guard let millis = rfc3339(bytes) else {
            return .failure(
                QueryArgumentError(
                    "'\(text.prefix(64))' is not a time: use RFC 3339 (2026-11-30T14:25:00Z, 2026-11-30T15:25:00+01:00), "
                        + "a date (2026-11-30) or a span back from now (90s, 15m, 2h, 3d)"))
        }
        return .success(millis)
    }

    /// An area `x,y,w,h` in fractions of the image (each 0…1, `w` and `h` above 0, inside the image).
    public static func area(_ text: String) -> Result<NormalizedRect, QueryArgumentError> {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map {
            Double(String($0.filter { $0 != " " }))
        }
        guard parts.count == 4, let x = parts[0], let y = parts[1], let w = parts[2], let h = parts[3],
            [x, y, w, h].allSatisfy({ $0.isFinite && $0 >= 0 && $0 <= 1 }), w > 0, h > 0, x + w <= 1.000_001,
            y + h <= 1.000_001
        else {
            return .failure(
                QueryArgumentError(
                    "'\(text.prefix(64))' is not an area: x,y,w,h as fractions of the image, e.g. 0.6,0.5,0.2,0.3 "
                        + "(inside the image, width and height above 0)"))
        }
        return .success(NormalizedRect(x: x, y: y, width: w, height: h))
    }

    private static func rfc3339(_ bytes: [UInt8]) -> Int64? {
        var index = 0
        func number(_ count: Int) -> Int64? {
            guard index + count <= bytes.count else { return nil }
            var value: Int64 = 0
            for byte in bytes[index..<index + count] {
                guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
                value = value * 10 + Int64(byte - UInt8(ascii: "0"))
            }
            index += count
            return value
        }
        func expect(_ characters: String) -> Bool {
            guard index < bytes.count, characters.utf8.contains(bytes[index]) else { return false }
            index += 1
            return true
        }
        guard let year = number(4), expect("-"), let month = number(2), expect("-"), let day = number(2),
            (1...12).contains(month), (1...31).contains(day), year >= 1970
        else { return nil }
        var millis = days(year: year, month: month, day: day) * 86_400_000
        guard day <= daysIn(month: month, year: year) else { return nil }
        if index == bytes.count { return millis }
        guard expect("Tt "), let hour = number(2), expect(":"), let minute = number(2), expect(":"),
            let second = number(2), hour < 24, minute < 60, second < 61
        else { return nil }
        millis += (hour * 3600 + minute * 60 + second) * 1000
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            var scale: Int64 = 100
            var digits = 0
            while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) {
                millis += Int64(bytes[index] - UInt8(ascii: "0")) * scale
                scale /= 10
                index += 1
                digits += 1
            }
            guard digits > 0 else { return nil }
        }
        if expect("Zz") { return index == bytes.count ? millis : nil }
        guard index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") else {
            return nil
        }
        let sign: Int64 = bytes[index] == UInt8(ascii: "+") ? 1 : -1
        index += 1
        guard let offsetHours = number(2), expect(":"), let offsetMinutes = number(2), offsetHours < 24,
            offsetMinutes < 60, index == bytes.count
        else { return nil }
        return millis - sign * (offsetHours * 60 + offsetMinutes) * 60_000
    }

    /// Days from 1970-01-01 to a civil date (Howard Hinnant's algorithm).
    private static func days(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = y / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    private static func daysIn(month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}

/// Why a query argument is refused, in words for the technician.
public struct QueryArgumentError: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
