import Testing
import VigieCore

/// `[tamper]` settings as read from a file, and the tamper events as the centre receives them.
@Suite("Tamper settings and events")
struct TamperEventTests {
    @Test func settingsAreReadAndDefaultToOn() throws {
        #expect(try Configuration.parse("", file: "unit.toml").tamper == TamperSettings())
        #expect(TamperSettings().enabled)
        let configuration = try Configuration.parse(
            """
            [tamper]
            enabled = false
            hold = 2.5
            relearn = 60
            covered_contrast = 0.2
            defocus_sharpness = 0.3
            moved_correlation = 0.4
            """, file: "unit.toml")
        var expected = TamperSettings()
        expected.enabled = false
        expected.hold = 2.5
        expected.relearn = 60
        expected.coveredContrast = 0.2
        expected.defocusSharpness = 0.3
        expected.movedCorrelation = 0.4
        #expect(configuration.tamper == expected)
    }

    @Test func errorsNameFileLineAndKey() {
        let text = """
            [tamper]
            hold = 0
            moved_correlation = "low"
            sensitivity = 1
            """
        #expect(
            Set(Fixtures.issues(parsing: text)) == [
                "unit.toml:2:tamper.hold", "unit.toml:3:tamper.moved_correlation", "unit.toml:4:tamper.sensitivity",
            ])
    }

    static let measurement = TamperMeasurement(contrast: 0.041, sharpness: 1.2, correlation: 0.3, luma: 4.5)

    @Test func raisedAndClearedEvents() {
        let raised = UnitEvent.tamper(
            TamperChange(
                state: .covered, previous: nil, confidence: 0.918, measurement: Self.measurement, frame: 80, time: 8),
            snapshot: [0xFF, 0xD8])
        #expect(raised.kind == "tamper_covered")
        #expect(raised.priority == Priority.alert)
        let event = raised.uplinkEvent
        #expect(event.kind == "tamper_covered" && event.priority == Priority.alert)
        #expect(event.snapshot == [0xFF, 0xD8])
        #expect(
            event.details.map { "\($0.key)=\($0.value)" }
                == ["confidence=0.92", "contrast=0.04", "sharpness=1.2", "correlation=0.3", "luma=4.5"])

        let moved = UnitEvent.tamper(
            TamperChange(
                state: .moved, previous: .defocus, confidence: 0.7, measurement: Self.measurement, frame: 90, time: 9),
            snapshot: nil)
        #expect(moved.kind == "tamper_moved")
        #expect(moved.uplinkEvent.details.map(\.key).prefix(2) == ["confidence", "previous"])

        let cleared = UnitEvent.tamper(
            TamperChange(
                state: nil, previous: .defocus, confidence: 0.8, measurement: Self.measurement, frame: 200, time: 20,
                duration: 12.345),
            snapshot: nil)
        #expect(cleared.kind == "tamper_cleared")
        #expect(cleared.priority == Priority.alert)
        #expect(
            cleared.uplinkEvent.details.map { "\($0.key)=\($0.value)" }.prefix(3)
                == ["confidence=0.8", "was=defocus", "duration_s=12.35"])
        #expect(TamperState.allCases.map(\.kind) == ["tamper_covered", "tamper_defocus", "tamper_moved"])
    }
}
