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
        var lines: [String] = []
        var frames: [Int] = []
        let summary = try OfflineAnalyzer(configuration: configuration).run(
            source: scene, onEvent: { _ in }, onAlert: { alerts.append($0) },
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
        let line = try #require(lines.first)
        #expect(line.hasPrefix("{\"frame\":60,\"boxes\":[["), "\(line)")
        if let alert = alerts.first {
            let json = alert.jsonLine
            for key in [
                "\"kind\":\"intrusion\"", "\"zone\":\"yard\"", "\"start_frame\":\(alert.startFrame)",
                "\"end_frame\":\(alert.frame)", "\"boxes\":[{",
            ] {
                #expect(json.contains(key), "\(json)")
            }
            #expect(!json.contains("\"line\""))
        }
    }

    @Test("the analyzer's start time drives the schedules")
    func analyzerSchedule() throws {
        let schedule = try ZoneSchedule(ranges: ["mon-fri 18:00-07:30"], holidays: [])
        let configuration = ZoneRuleTests.configuration(zones: [ZoneRuleTests.yard(schedule: schedule)])
        func count(start: LocalTime?) throws -> Int {
            let scene = try S.scene()
            scene.frameLimit = 200
            ZoneRuleTests.intruder(scene)
            return try OfflineAnalyzer(configuration: configuration, start: start).run(source: scene, onEvent: { _ in })
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
