import Testing
import VigieCore

@Suite("Query arguments")
struct QueryArgumentsTests {
    static let now: Int64 = 1_764_513_901_123  // 2025-11-30T14:45:01.123Z

    static let timeCases: [(String, Int64)] = [
        ("2025-11-30T14:45:01.123Z", now),
        ("2025-11-30T14:45:01Z", now - 123),
        ("2025-11-30t14:45:01.1z", now - 23),
        ("2025-11-30T15:45:01.123+01:00", now),
        ("2025-11-30T13:15:01.123-01:30", now),
        ("2025-11-30", 1_764_460_800_000),
        ("2024-02-29", 1_709_164_800_000),
        ("90s", now - 90_000),
        ("15m", now - 900_000),
        ("2h", now - 7_200_000),
        ("3d", now - 259_200_000),
    ]

    @Test("times", arguments: timeCases)
    func times(text: String, millis: Int64) {
        #expect(QueryArguments.time(text, now: Self.now) == .success(millis))
        // Round trip through the unit's own format.
        if text.hasSuffix("Z") { #expect(Timestamp.rfc3339(millis: millis).hasPrefix(String(text.prefix(19)))) }
    }

    @Test(
        "not times",
        arguments: [
            "", "yesterday", "2h ago", "-2h", "2026-13-01", "2026-02-30", "2025-02-29", "2026-11-30T25:00:00Z",
            "2026-11-30T14:45Z", "2026-11-30T14:45:01", "2026-11-30T14:45:01.Z", "2026-11-30T14:45:01+1", "h",
            "2026-11-30T14:45:01Zjunk", "123456789d",
        ])
    func notTimes(text: String) {
        guard case .failure(let error) = QueryArguments.time(text, now: Self.now) else {
            Issue.record("'\(text)' taken as a time")
            return
        }
        #expect(error.description.contains("RFC 3339"))
    }

    @Test func areas() {
        #expect(
            QueryArguments.area("0.6,0.5,0.2,0.3") == .success(NormalizedRect(x: 0.6, y: 0.5, width: 0.2, height: 0.3)))
        #expect(QueryArguments.area("0, 0, 1, 1") == .success(NormalizedRect(x: 0, y: 0, width: 1, height: 1)))
        for bad in [
            "", "0.1,0.2,0.3", "0.1,0.2,0.3,0.4,0.5", "a,b,c,d", "0.5,0.5,0.6,0.1", "0.1,0.1,0,0.2", "-0.1,0,0.5,0.5",
            "0,0,nan,1",
        ] {
            #expect(throws: QueryArgumentError.self, "\(bad)") { try QueryArguments.area(bad).get() }
        }
    }
}
