import Testing
import VigieCore

/// A zone's or a line's spoken warning (`say` / `play`): as read from a file, and which alerts sound it.
@Suite("Rule warnings")
struct RuleWarningTests {
    static let speaker = """
        [audio]
        file = "/tmp/speaker.wav"

        [speaker]
        clips_dir = "/tmp/clips"
        max_text = 60

        """

    @Test func zonesAndLinesCarryTheirWarning() throws {
        let configuration = try Configuration.parse(
            Self.speaker + """
                [[zone]]
                name = "yard"
                kind = "intrusion"
                points = [[0, 0.5], [1, 0.5], [1, 1], [0, 1]]
                say = "Vous êtes dans une zone surveillée."

                [[zone]]
                name = "square"
                kind = "density"

                [[line]]
                name = "gate"
                from = [0.5, 0.4]
                to = [0.5, 1]
                direction = "left_to_right"
                play = "sens-interdit"
                """, file: "unit.toml")
        #expect(configuration.zones.map(\.warning) == [.say("Vous êtes dans une zone surveillée."), nil])
        #expect(configuration.lines.map(\.warning) == [.play("sens-interdit")])
    }

    @Test(
        "errors name file, line and key",
        arguments: [
            // A motion zone raises no alert.
            (Self.speaker + "[[zone]]\nname = \"z\"\nsay = \"Attention\"\n", 9, "zone[1].say"),
            // One or the other.
            (
                Self.speaker + "[[zone]]\nname = \"z\"\nkind = \"intrusion\"\nsay = \"Attention\"\nplay = \"bip\"\n",
                11,
                "zone[1].play"
            ),
            (Self.speaker + "[[zone]]\nname = \"z\"\nkind = \"intrusion\"\nsay = \"  \"\n", 10, "zone[1].say"),
            // Longer than the speaker's max_text (60).
            (
                Self.speaker
                    + "[[zone]]\nname = \"z\"\nkind = \"density\"\nsay = \"\(String(repeating: "a", count: 61))\"\n",
                10, "zone[1].say"
            ),
            (
                Self.speaker + "[[line]]\nname = \"l\"\nfrom = [0.5, 0]\nto = [0.5, 1]\nplay = \"../etc/passwd\"\n", 11,
                "line[1].play"
            ),
            // No speaker at all, or no clips.
            ("[[zone]]\nname = \"z\"\nkind = \"intrusion\"\nsay = \"Attention\"\n", 4, "zone[1].say"),
            ("[[line]]\nname = \"l\"\nfrom = [0.5, 0]\nto = [0.5, 1]\nplay = \"bip\"\n", 5, "line[1].play"),
            (
                "[audio]\nfile = \"/tmp/s.wav\"\n[[line]]\nfrom = [0.5, 0]\nto = [0.5, 1]\nplay = \"bip\"\n", 6,
                "line[1].play"
            ),
        ])
    func errors(text: String, line: Int, key: String) {
        #expect(Fixtures.issues(parsing: text) == ["unit.toml:\(line):\(key)"], "\(text)")
    }

    /// A reload keeps the running speaker and its clips: the warnings a new file adds are checked against them.
    @Test func problemsAreWarningsTheRunningSpeakerCannotSound() throws {
        let configuration = try Configuration.parse(
            Self.speaker + """
                [[zone]]
                name = "yard"
                kind = "intrusion"
                say = "\(String(repeating: "a", count: 50))"

                [[zone]]
                name = "square"
                kind = "density"
                play = "foule"

                [[line]]
                name = "gate"
                from = [0.5, 0]
                to = [0.5, 1]
                play = "sens-interdit"
                """, file: "unit.toml")
        var running = try #require(configuration.speaker)
        func problems(_ speaker: SpeakerSettings?, clips: Set<String>) -> [String] {
            RuleWarning.problems(
                zones: configuration.zones, lines: configuration.lines, speaker: speaker, clips: clips
            ).map { "\($0.place) \($0.name): \($0.why)" }
        }
        #expect(problems(running, clips: ["foule", "sens-interdit"]).isEmpty)
        #expect(
            problems(running, clips: ["foule"]) == [
                "line gate: no clip 'sens-interdit' in clips_dir (clips are read at start)"
            ])
        running.queue.maximumTextLength = 40
        #expect(
            problems(running, clips: ["foule", "sens-interdit"]) == [
                "zone yard: 50 characters; the running speaker says at most 40"
            ])
        #expect(problems(nil, clips: []).count == 3)
    }

    static func alert(_ kind: RuleAlert.Kind, zone: String? = nil, line: String? = nil) -> RuleAlert {
        RuleAlert(
            kind: kind, rule: zone ?? line ?? kind.rawValue, zone: zone, line: line, boxes: [], confidence: 1,
            startFrame: 0, startTime: 0, frame: 0, time: 0)
    }

    @Test func eachAlertSoundsItsOwnZonesOrLinesWarning() {
        func zone(_ name: String, _ kind: Zone.Kind, _ warning: RuleWarning?) -> Zone {
            var zone = Zone(name: name, polygon: nil, sensitivity: 0.5, minimumArea: 0.01, kind: kind)
            zone.warning = warning
            return zone
        }
        func line(_ name: String, _ direction: LineDirection, _ warning: RuleWarning?) -> LineRule {
            var line = LineRule(
                name: name, from: NormalizedPoint(x: 0.5, y: 0), to: NormalizedPoint(x: 0.5, y: 1),
                direction: direction)
            line.warning = warning
            return line
        }
        let zones = [
            zone("yard", .intrusion, .say("Zone surveillée")), zone("square", .density, .play("foule")),
            zone("quiet", .intrusion, nil),
        ]
        // A zone and a line may share a name: each alert finds its own.
        let lines = [line("gate", .leftToRight, .play("sens-interdit")), line("yard", .any, .say("Passage"))]
        func sounded(_ alert: RuleAlert) -> RuleWarning? {
            RuleWarning.sounded(by: alert, zones: zones, lines: lines)
        }
        #expect(sounded(Self.alert(.intrusion, zone: "yard")) == .say("Zone surveillée"))
        #expect(sounded(Self.alert(.densityHigh, zone: "square")) == .play("foule"))
        #expect(sounded(Self.alert(.intrusion, zone: "quiet")) == nil)
        #expect(sounded(Self.alert(.intrusion, zone: "gone")) == nil, "a zone removed by a reload")
        // A directional line warns against the wrong way only; a line either way may be crossed, on each crossing.
        #expect(sounded(Self.alert(.wrongWay, line: "gate")) == .play("sens-interdit"))
        #expect(sounded(Self.alert(.lineCrossing, line: "gate")) == nil)
        #expect(sounded(Self.alert(.lineCrossing, line: "yard")) == .say("Passage"))
        // Objects left behind and crowd movement warn nobody.
        #expect(sounded(Self.alert(.abandonedObject, zone: "yard")) == nil)
        #expect(sounded(Self.alert(.crowdMovement)) == nil)

        #expect(RuleWarning.source(of: Self.alert(.intrusion, zone: "yard")) == "rule:zone:yard")
        #expect(RuleWarning.source(of: Self.alert(.lineCrossing, line: "yard")) == "rule:line:yard")
    }
}
