import Testing
import VigieCore

@Suite("Rules in the offline analyzer and as events", .serialized)
struct RuleAnalyzerTests {
    typealias S = RuleScenes

    @Test("the analyzer reports the rules' alerts, and every frame's boxes in pixels around the ground truth")
    func analyzer() throws {
        let scene = try S.scene()
        scene.frameLimit = 200
        ZoneRuleTests.intruder(scene)
        var configuration = ZoneRuleTests.configuration(zones: [ZoneRuleTests.yard()])
        configuration.zones.insert(S.zone("street", kind: .motion, x: 0, y: 0.3, width: 1, height: 0.7), at: 0)
        var alerts: [RuleAlert] = []
        var situations: [Situation] = []
        var lines: [String] = []
        var frames: [Int] = []
        let summary = try OfflineAnalyzer(configuration: configuration).run(
            source: scene, onAlert: { alerts.append($0) }, onSituation: { situations.append($0) },
            onBoxes: { frame, boxes in
                frames.append(frame)
                // The walker is the only thing that moves: its box must hold it, within one cell (2 px).
                let truth = scene.objects.first { $0.frames.contains(frame) }.map { object in
                    let r = object.rect(at: frame)
                    let x = max(0, r.x)
                    return (x: x, y: r.y, width: min(S.width, r.x + r.width) - x, height: r.height)
                }
                for box in boxes {
                    let p = box.pixels(width: S.width, height: S.height)
                    guard let t = truth, t.width > 0 else {
                        Issue.record("frame \(frame): a box \(p) with nothing moving")
                        continue
                    }
                    #expect(p[0] <= t.x + 2 && p[2] >= t.x + t.width - 2, "frame \(frame): \(p) vs \(t)")
                    #expect(p[1] <= t.y + 2 && p[3] >= t.y + t.height - 2, "frame \(frame): \(p) vs \(t)")
                    #expect(p[2] - p[0] <= t.width + 8 && p[3] - p[1] <= t.height + 8, "frame \(frame): \(p)")
                }
                if frame == 60 { lines.append(MotionBox.jsonLine(frame: frame, boxes: boxes, width: 160, height: 120)) }
            })
        #expect(frames == Array(0..<200))
        #expect(summary.alerts == 1 && alerts.map(\.kind) == [.intrusion])
        #expect(summary.framesWithMotion > 100)
        #expect(summary.situations == situations.count)
        let line = try #require(lines.first)
        #expect(line.hasPrefix("{\"frame\":60,\"boxes\":[["), "\(line)")
        // The intruder still wanders in the yard when the recording ends: the intrusion is ongoing, up to the last
        // frame read.
        let intrusions = situations.filter { $0.kind == "intrusion" }
        #expect(intrusions.count == 1, "\(situations.map(\.jsonLine))")
        if let alert = alerts.first, let intrusion = intrusions.first {
            let json = intrusion.jsonLine
            for key in [
                "\"kind\":\"intrusion\"", "\"zone\":\"yard\"", "\"start_frame\":\(alert.startFrame)",
                "\"end_frame\":199", "\"alert_frame\":\(alert.frame)", "\"boxes\":[{", "\"ongoing\":true",
            ] {
                #expect(json.contains(key), "\(json)")
            }
            #expect(!json.contains("\"line\"") && !json.contains("\"cleared\""))
        }
    }

    @Test("motion still going on when the recording ends is written as ongoing; motion that ended is not")
    func motionOngoingAtTheEnd() throws {
        let geometry = try FrameGeometry(format: .i420, width: 160, height: 120)
        // The first walker crosses from 2 s to about 6.8 s: cut at 4 s, in the middle.
        for (frames, ongoing) in [(40, true), (100, false)] {
            let scene = SyntheticScene.street(geometry: geometry, framesPerSecond: 10)
            scene.frameLimit = frames
            var situations: [Situation] = []
            _ = try OfflineAnalyzer(configuration: Configuration()).run(
                source: scene, onSituation: { situations.append($0) })
            let motion = try #require(situations.last { $0.kind == "motion" })
            #expect(motion.isOngoing == ongoing, "\(motion.jsonLine)")
            #expect(motion.jsonLine.contains("\"ongoing\":\(ongoing)"), "\(motion.jsonLine)")
            if ongoing { #expect((frames - 3..<frames).contains(motion.endFrame), "\(motion.jsonLine)") }
        }
    }

    /// The lines `vigie analyze --events` would write for `scene` over `frames` frames.
    static func situations(
        _ scene: SyntheticScene, frames: Int, configuration: Configuration
    ) throws -> [Situation] {
        scene.frameLimit = frames
        var situations: [Situation] = []
        _ = try OfflineAnalyzer(configuration: configuration).run(source: scene, onSituation: { situations.append($0) })
        #expect(
            situations.map(\.endFrame) == situations.map(\.endFrame).sorted(), "\(situations.map(\.jsonLine))")
        return situations.filter { $0.kind != "motion" }
    }

    @Test("an intrusion is one line from the start of the dwell to the last frame the intruder was in the zone")
    func intrusionInterval() throws {
        let scene = try S.scene()
        // In the yard (x ≥ 80) from about frame 53, wandering there until frame 109, then gone.
        scene.objects =
            S.walker(from: (20, 80), to: (120, 80), seconds: 4, start: 30, until: 70) + [
                .init(x: 120, y: 80, width: 8, height: 24, dx: -1, dy: 0, luma: 30, frames: 70..<110)
            ]
        let situations = try Self.situations(
            scene, frames: 260, configuration: ZoneRuleTests.configuration(zones: [ZoneRuleTests.yard()]))
        #expect(situations.count == 1, "\(situations.map(\.jsonLine))")
        let intrusion = try #require(situations.first)
        #expect(intrusion.kind == "intrusion" && intrusion.zone == "yard")
        #expect((50...60) ~= intrusion.startFrame, "\(intrusion.jsonLine)")
        // The ground truth ends at frame 109; within 3 frames (0.3 s) of it.
        #expect((106...112) ~= intrusion.endFrame, "\(intrusion.jsonLine)")
        #expect(intrusion.ending == .rule(.quiet) && intrusion.jsonLine.contains("\"cleared\":\"quiet\""))
        #expect(intrusion.alertFrame.map { $0 - intrusion.startFrame } == 20, "\(intrusion.jsonLine)")
    }

    @Test("density_high and crowd_movement are one line each, up to the last frame the crowd moved")
    func crowdIntervals() throws {
        let scene = try S.scene()
        // Twenty people move from frame 50 to frame 199, then are gone.
        ZoneRuleTests.group(scene, count: 20, start: 50)
        let situations = try Self.situations(
            scene, frames: 330, configuration: ZoneRuleTests.configuration(zones: [ZoneRuleTests.square], crowd: true))
        #expect(situations.map(\.kind).sorted() == ["crowd_movement", "density_high"], "\(situations.map(\.jsonLine))")
        for situation in situations {
            #expect((50...55) ~= situation.startFrame, "\(situation.jsonLine)")
            #expect((196...202) ~= situation.endFrame, "\(situation.jsonLine)")
            #expect(situation.ending == .rule(.quiet), "\(situation.jsonLine)")
        }
    }

    @Test("an object left then taken is one abandoned_object line, from where it stopped to its clearing")
    func abandonedInterval() throws {
        typealias A = AbandonedObjectTests
        let scene = try ObjectRulesHarness.scene()
        // Two bags: the first left at frame 60 and taken at 300, the second left at 80 and taken first, at 250.
        let second = A.bag(stop: 80, taken: 250, luma: 25).map { object in
            var object = object
            object.x += 60
            object.y -= 50
            return object
        }
        scene.objects = A.bag(stop: 60, taken: 300) + second
        let situations = try Self.situations(scene, frames: 340, configuration: A.configuration)
        #expect(situations.map(\.kind) == ["abandoned_object", "abandoned_object"], "\(situations.map(\.jsonLine))")
        guard situations.count == 2 else { return }
        let (taken, left) = (situations[0], situations[1])
        #expect((80...95) ~= taken.startFrame && (250...275) ~= taken.endFrame, "\(taken.jsonLine)")
        #expect((60...75) ~= left.startFrame && (300...325) ~= left.endFrame, "\(left.jsonLine)")
        for situation in situations {
            #expect(situation.ending == .gone && !situation.isOngoing, "\(situation.jsonLine)")
            #expect(situation.alertFrame.map { $0 - situation.startFrame >= 100 } == true, "\(situation.jsonLine)")
        }
        #expect(taken.boxes.first.map { $0.x > 0.6 } == true && left.boxes.first.map { $0.x < 0.6 } == true)
    }

    @Test("a lens covered for 10 s is one tamper_covered line up to its clearing; covered at the end, it is ongoing")
    func tamperInterval() throws {
        typealias T = TamperDetectorTests
        let scene = try T.scene()
        scene.gain = { T.tampered.contains($0) ? 0.04 : 1 }
        let situations = try Self.situations(scene, frames: 250, configuration: T.configuration)
        #expect(situations.map(\.kind) == ["tamper_covered"], "\(situations.map(\.jsonLine))")
        let covered = try #require(situations.first)
        // Begins with the cover (within 0.5 s, the smoothing), decided `hold` (3 s, the first frame counting one
        // interval) later; cleared within 5 s of its removal.
        #expect((T.start...(T.start + 5)) ~= covered.startFrame, "\(covered.jsonLine)")
        #expect(covered.alertFrame.map { $0 - covered.startFrame >= 29 } == true, "\(covered.jsonLine)")
        #expect((T.end...(T.end + 50)) ~= covered.endFrame, "\(covered.jsonLine)")
        #expect(covered.jsonLine.contains("\"cleared\":\"view\""), "\(covered.jsonLine)")

        let still = try T.scene()
        still.gain = { $0 >= T.start ? 0.04 : 1 }
        let ongoing = try Self.situations(still, frames: 120, configuration: T.configuration)
        #expect(ongoing.map(\.kind) == ["tamper_covered"], "\(ongoing.map(\.jsonLine))")
        #expect(ongoing.first.map { $0.isOngoing && $0.endFrame == 119 } == true, "\(ongoing.map(\.jsonLine))")
        #expect(ongoing.first?.jsonLine.contains("\"ongoing\":true") == true)
    }

    @Test("the analyzer's start time drives the schedules")
    func analyzerSchedule() throws {
        let schedule = try ZoneSchedule(ranges: ["mon-fri 18:00-07:30"], holidays: [])
        let configuration = ZoneRuleTests.configuration(zones: [ZoneRuleTests.yard(schedule: schedule)])
        func count(start: LocalTime?) throws -> Int {
            let scene = try S.scene()
            scene.frameLimit = 200
            ZoneRuleTests.intruder(scene)
            return try OfflineAnalyzer(configuration: configuration, start: start).run(source: scene)
                .alerts
        }
        #expect(try count(start: nil) == 1)
        #expect(try count(start: LocalTime(year: 2026, month: 12, day: 1, hour: 12)) == 0)
        #expect(try count(start: LocalTime(year: 2026, month: 12, day: 1, hour: 22)) == 1)
    }

    @Test("every kind becomes an alert event with its rule, zone, line, direction, confidence and boxes")
    func events() {
        for kind in RuleAlert.Kind.allCases {
            let isLine = kind == .lineCrossing || kind == .wrongWay
            let alert = RuleAlert(
                kind: kind, rule: isLine ? "gate" : "yard", zone: isLine ? nil : "yard", line: isLine ? "gate" : nil,
                direction: isLine ? .leftToRight : nil,
                boxes: [NormalizedRect(x: 0.1, y: 0.2, width: 0.3, height: 0.4)],
                confidence: 0.75, startFrame: 10, startTime: 1, frame: 30, time: 3.5)
            let event = UnitEvent.rule(alert, snapshot: [0xFF, 0xD8]).uplinkEvent
            #expect(event.kind == kind.rawValue)
            #expect(event.priority == Priority.alert)
            #expect(event.zone == alert.zone && event.boxes == alert.boxes && event.snapshot == [0xFF, 0xD8])
            let details = Dictionary(uniqueKeysWithValues: event.details.map { ($0.key, $0.value) })
            #expect(details["rule"] == alert.rule && details["confidence"] == "0.75")
            #expect(details["start_s"] == "1.0" && details["duration_s"] == "2.5")
            #expect(details["line"] == alert.line && details["direction"] == (isLine ? "left_to_right" : nil))
        }
    }
}
