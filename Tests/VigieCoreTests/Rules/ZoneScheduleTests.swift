import Testing
import VigieCore

@Suite("Zone schedules and local time")
struct ZoneScheduleTests {
    @Test("civil dates round-trip and weekdays match the calendar")
    func civil() {
        // 2026-11-30 is a Monday, 2024-02-29 a Thursday, 1970-01-01 a Thursday.
        #expect(LocalTime(year: 2026, month: 11, day: 30).weekday == 0)
        #expect(LocalTime(year: 2024, month: 2, day: 29).weekday == 3)
        #expect(LocalTime(year: 1970, month: 1, day: 1).weekday == 3)
        let time = LocalTime(year: 2026, month: 12, day: 25, hour: 18, minute: 45)
        #expect(time.date == (2026, 12, 25) && time.minuteOfDay == 18 * 60 + 45)
        #expect(time.advanced(by: 6 * 3600).date == (2026, 12, 26))
        #expect(LocalTime(parsing: "2026-12-25T18:45") == time)
        #expect(LocalTime(parsing: "2026-12-25 18:45:00") == time)
        for bad in ["2026-02-29T10:00", "2026-13-01", "2026-12-25T24:00", "25/12/2026", "2026-12-25T9:00"] {
            #expect(LocalTime(parsing: bad) == nil, "\(bad)")
        }
    }

    /// (range, day of November/December 2026, hour, minute, armed): 2026-11-30 is a Monday.
    static let cases: [(String, Int, Int, Int, Bool)] = [
        ("mon-fri 18:00-07:30", 30, 17, 59, false),
        ("mon-fri 18:00-07:30", 30, 18, 0, true),
        ("mon-fri 18:00-07:30", 31, 7, 29, true),  // Tuesday 1 December (day 31 of the month count below)
        ("mon-fri 18:00-07:30", 31, 7, 30, false),
        ("mon-fri 18:00-07:30", 35, 7, 0, true),  // Saturday morning: Friday's night
        ("mon-fri 18:00-07:30", 35, 8, 0, false),
        ("mon-fri 18:00-07:30", 30, 3, 0, false),  // Monday early: Sunday's night is not listed
        ("sat-sun 00:00-24:00", 36, 23, 59, true),
        ("sat-sun 00:00-24:00", 37, 0, 0, false),  // Monday
        ("fri-mon 12:00-13:00", 37, 12, 30, true),  // a span that wraps round the week
        ("fri-mon 12:00-13:00", 38, 12, 30, false),
        ("mon,wed 08:00-09:00", 32, 8, 15, true),
        ("mon,wed 08:00-09:00", 31, 8, 15, false),
    ]

    @Test("weekly ranges, including across midnight and round the week", arguments: cases)
    func armed(_ item: (String, Int, Int, Int, Bool)) throws {
        let schedule = try ZoneSchedule(ranges: [item.0], holidays: [])
        let time = LocalTime(year: 2026, month: 11, day: 30, hour: item.2, minute: item.3)
            .advanced(by: Double(item.1 - 30) * 86_400)
        #expect(schedule.isArmed(at: time) == item.4)
    }

    @Test("holidays are armed all day; no clock means armed")
    func holidays() throws {
        let schedule = try ZoneSchedule(ranges: ["mon-fri 18:00-07:30"], holidays: ["2026-12-25"])
        #expect(schedule.isArmed(at: LocalTime(year: 2026, month: 12, day: 25, hour: 12)))
        #expect(!schedule.isArmed(at: LocalTime(year: 2026, month: 12, day: 24, hour: 12)))
        #expect(!schedule.isArmed(at: LocalTime(year: 2026, month: 12, day: 26, hour: 12)))
        #expect(schedule.isArmed(at: nil))
        #expect(ZoneSchedule.always.isArmed(at: LocalTime(year: 2026, month: 12, day: 24, hour: 12)))
    }

    @Test(
        "bad ranges and dates are refused",
        arguments: [
            "mon-fri", "18:00-07:30", "mon-fry 18:00-07:30", "mon 18:00", "mon 25:00-07:00", "mon 18:60-19:00",
            "mon 24:00-07:00", "mon 8:00-9:00", "mon- 08:00-09:00", "mon 08:00-09:00 extra",
        ])
    func refused(_ text: String) {
        #expect(throws: ZoneSchedule.SyntaxError.self) { try ZoneSchedule(ranges: [text], holidays: []) }
    }

    @Test("bad holiday dates are refused", arguments: ["2026-02-30", "2026-12-25T00:00", "christmas", "2026-1-5"])
    func refusedDate(_ text: String) {
        #expect(throws: ZoneSchedule.SyntaxError.self) { try ZoneSchedule(ranges: [], holidays: [text]) }
    }
}
