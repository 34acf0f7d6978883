import Testing
import VigieCore

@Suite("Zone kinds, schedules and [crowd] in the configuration")
struct ZoneConfigurationTests {
    @Test("kinds, schedules, holidays, dwell, high_occupancy and [crowd] are read")
    func read() throws {
        let configuration = try Configuration.parse(
            """
            [[zone]]
            name = "street"
            sensitivity = 0.7

            [[zone]]
            name = "yard"
            kind = "intrusion"
            points = [[0.5, 0.5], [1, 0.5], [1, 1], [0.5, 1]]
            min_area = 0.004
            dwell = 3
            schedule = ["mon-fri 18:00-07:30", "sat-sun 00:00-24:00"]
            holidays = ["2026-12-25"]

            [[zone]]
            name = "square"
            kind = "density"
            high_occupancy = 0.4

            [crowd]
            enabled = true
            jump = 0.2
            hold = 2
            """, file: "unit.toml")
        let zones = configuration.zones
        #expect(zones.map(\.kind) == [.motion, .intrusion, .density])
        #expect(zones[0].sensitivity == 0.7 && zones[0].schedule == .always)
        #expect(zones[1].dwell == 3 && zones[1].minimumArea == 0.004)
        #expect(zones[1].schedule.ranges?.count == 2 && zones[1].schedule.holidays.count == 1)
        #expect(zones[1].schedule.isArmed(at: LocalTime(year: 2026, month: 12, day: 25, hour: 12)))
        #expect(!zones[1].schedule.isArmed(at: LocalTime(year: 2026, month: 12, day: 24, hour: 12)))
        #expect(zones[2].highOccupancy == 0.4 && zones[2].dwell == Zone.defaultDwell && zones[2].polygon == nil)
        #expect(configuration.crowd.enabled && configuration.crowd.jump == 0.2 && configuration.crowd.hold == 2)
        #expect(Configuration().crowd.enabled == false)
    }

    @Test(
        "errors name file, line and key",
        arguments: [
            ("[[zone]]\nname = \"a\"\nkind = \"forbidden\"\n", 3, "zone[1].kind", "not a zone kind"),
            (
                "[[zone]]\nkind = \"intrusion\"\nschedule = [\"mon-fry 18:00-07:30\"]\n", 3, "zone[1].schedule[1]",
                "not a day"
            ),
            (
                "[[zone]]\nkind = \"intrusion\"\nschedule = [\n  \"mon 08:00-09:00\",\n  \"tue 8h-9h\"]\n", 5,
                "zone[1].schedule[2]", "not a time range"
            ),
            (
                "[[zone]]\nkind = \"intrusion\"\nschedule = \"mon 08:00-09:00\"\n", 3, "zone[1].schedule",
                "list of strings"
            ),
            ("[[zone]]\nkind = \"intrusion\"\nschedule = [8]\n", 3, "zone[1].schedule[1]", "string in quotes"),
            (
                "[[zone]]\nkind = \"intrusion\"\nschedule = [\"mon 08:00-09:00\"]\nholidays = [\"2026-02-30\"]\n", 4,
                "zone[1].holidays[1]", "not a date"
            ),
            ("[[zone]]\nkind = \"intrusion\"\nholidays = [\"2026-12-25\"]\n", 3, "zone[1].holidays", "need a schedule"),
            ("[[zone]]\nkind = \"intrusion\"\nhigh_occupancy = 0.5\n", 3, "zone[1].high_occupancy", "does not apply"),
            ("[[zone]]\nhigh_occupancy = 0.5\n", 2, "zone[1].high_occupancy", "does not apply to a motion zone"),
            ("[[zone]]\nkind = \"density\"\nhigh_occupancy = 1.5\n", 3, "zone[1].high_occupancy", "out of range"),
            ("[[zone]]\nkind = \"density\"\nmin_area = 0.01\n", 3, "zone[1].min_area", "does not apply"),
            ("[[zone]]\ndwell = 3\n", 2, "zone[1].dwell", "does not apply to a motion zone"),
            ("[[zone]]\nschedule = [\"mon 08:00-09:00\"]\n", 2, "zone[1].schedule", "does not apply"),
            ("[[zone]]\nkind = \"intrusion\"\nsensitivity = 0.9\n", 3, "zone[1].sensitivity", "does not apply"),
            ("[[zone]]\nkind = \"intrusion\"\ndwell = -1\n", 3, "zone[1].dwell", "out of range"),
            ("[[zone]]\nkind = \"intrusion\"\nlinger = 3\n", 3, "zone[1].linger", "unknown key"),
            (
                "[[zone]]\nname = \"street\"\npoints = [[0, 0.5], [1, 0.5], [1, 1], [0, 1]]\n[[zone]]\n"
                    + "name = \"yard\"\nkind = \"intrusion\"\npoints = [[0, 0.4], [1, 0.4], [1, 1], [0, 1]]\n", 7,
                "zone[2].points", "reaches outside the motion zones ('street')"
            ),
            (
                "[[zone]]\nname = \"street\"\npoints = [[0, 0.5], [1, 0.5], [1, 1], [0, 1]]\n[[zone]]\n"
                    + "name = \"square\"\nkind = \"density\"\n", 6, "zone[2].points", "reaches outside the motion zones"
            ),
            (
                "[[zone]]\nname = \"street\"\npoints = [[0, 0.5], [1, 0.5], [1, 1], [0, 1]]\n[[line]]\nname = \"kerb\"\n"
                    + "from = [0.5, 0.45]\nto = [0.5, 0.9]\n", 6, "line[1].from", "the line 'kerb' reaches outside"
            ),
            ("[crowd]\njump = 2\n", 2, "crowd.jump", "out of range"),
            ("[crowd]\nenabled = \"yes\"\n", 2, "crowd.enabled", "true or false"),
            ("[crowd]\nthreshold = 0.2\n", 2, "crowd.threshold", "unknown key"),
        ])
    func errorsAreLocated(text: String, line: Int, key: String, message: String) {
        ConfigurationTests.expectOneError(in: text, line: line, key: key, message: message)
    }
}
