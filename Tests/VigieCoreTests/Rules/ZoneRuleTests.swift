import Testing
import VigieCore

/// The zone rules and the crowd rule on synthetic scenes with known ground truth, through the real pipeline.
@Suite("Zone and crowd rules", .serialized)
struct ZoneRuleTests {
    typealias S = RuleScenes

    /// The yard: the lower right part of the image (x 0.5…1, y 0.5…1).
    static func yard(dwell: Double = 2, schedule: ZoneSchedule = .always) -> Zone {
        S.zone("yard", kind: .intrusion, x: 0.5, y: 0.5, width: 0.5, height: 0.5, dwell: dwell, schedule: schedule)
    }

    static func configuration(zones: [Zone], crowd: Bool = false) -> Configuration {
        var configuration = S.configuration
        configuration.zones = zones
        configuration.crowd.enabled = crowd
        return configuration
    }

    /// A person walks in from the left at frame 30 (4 s to reach x = 120), then wanders inside the yard.
    static func intruder(_ scene: SyntheticScene, start: Int = 30) {
        scene.objects =
            S.walker(from: (20, 80), to: (120, 80), seconds: 4, start: start, until: start + 40)
            + [
                .init(
                    x: 120, y: 80, width: 8, height: 24, dx: -1, dy: 0, luma: 30, frames: (start + 40)..<(start + 70)),
                .init(x: 90, y: 80, width: 8, height: 24, dx: 1, dy: 0, luma: 30, frames: (start + 70)..<(start + 200)),
            ]
    }

    @Test("intrusion: one alert within dwell + 1 s of the foot point entering the zone")
    func intrusionFires() throws {
        let scene = try S.scene()
        Self.intruder(scene)
        let alerts = S.run(scene, frames: 200, configuration: Self.configuration(zones: [Self.yard()]))
        // Ground truth: the walker's foot point (x + 4) crosses x = 80 (0.5 of the width) after 60 / 100 of 40 frames.
        let entry = 30 + 24
        #expect(alerts.count == 1, "\(alerts.map { "\($0.kind)@\($0.frame)" })")
        guard let alert = alerts.first else { return }
        #expect(alert.kind == .intrusion && alert.zone == "yard" && alert.rule == "yard")
        #expect(abs(alert.startFrame - entry) <= 3, "dwell began at \(alert.startFrame), entry at \(entry)")
        #expect(
            (20...21).contains(alert.frame - alert.startFrame), "began at \(alert.startFrame), raised at \(alert.frame)"
        )
        #expect(alert.frame <= entry + 30, "raised at \(alert.frame)")
        #expect(alert.confidence >= 0.5 && alert.confidence <= 1)
        #expect(alert.boxes.contains { $0.x + $0.width / 2 >= 0.5 && $0.y + $0.height > 0.5 })
    }

    @Test("intrusion: a walk along the zone, outside it, and motion smaller than min_area raise nothing")
    func intrusionNegatives() throws {
        let scene = try S.scene()
        // Along the top edge of the yard, foot point at y = 56 / 120 < 0.5, for 15 s.
        scene.objects = [.init(x: 0, y: 32, width: 8, height: 24, dx: 1, dy: 0, luma: 30, frames: 20..<170)]
        #expect(S.run(scene, frames: 180, configuration: Self.configuration(zones: [Self.yard()])).isEmpty)
        // A cat-sized object (3 × 3 pixels, 0.05 %) wandering in the yard; min_area is 0.5 %.
        let small = try S.scene()
        small.objects = [.init(x: 90, y: 90, width: 3, height: 3, dx: 0.5, dy: 0, luma: 30, frames: 20..<170)]
        #expect(S.run(small, frames: 180, configuration: Self.configuration(zones: [Self.yard()])).isEmpty)
    }

    @Test("intrusion follows the zone's schedule: quiet outside it, raised inside it (weekday night and holiday)")
    func intrusionSchedule() throws {
        let schedule = try ZoneSchedule(ranges: ["mon-fri 18:00-07:30"], holidays: ["2026-12-25"])
        let configuration = Self.configuration(zones: [Self.yard(schedule: schedule)])
        func alerts(at start: LocalTime) throws -> [RuleAlert] {
            let scene = try S.scene()
            Self.intruder(scene)
            return S.run(
                scene, frames: 200, configuration: configuration,
                localTime: { start.advanced(by: Double($0) / S.rate) })
        }
        // Tuesday 2026-12-01 at 12:00: off.
        #expect(try alerts(at: LocalTime(year: 2026, month: 12, day: 1, hour: 12)).isEmpty)
        // Tuesday 2026-12-01 at 23:00, and Saturday morning 07:00 (Friday's night): on.
        #expect(try alerts(at: LocalTime(year: 2026, month: 12, day: 1, hour: 23)).map(\.kind) == [.intrusion])
        #expect(try alerts(at: LocalTime(year: 2026, month: 12, day: 5, hour: 7)).map(\.kind) == [.intrusion])
        // Friday 2026-12-25 at noon: a holiday, on all day; the next Friday at noon: off.
        #expect(try alerts(at: LocalTime(year: 2026, month: 12, day: 25, hour: 12)).map(\.kind) == [.intrusion])
        #expect(try alerts(at: LocalTime(year: 2027, month: 1, day: 1, hour: 12)).isEmpty)
        // The schedule ends during the dwell (Tuesday 07:29:55 → off at 07:30): nothing.
        #expect(try alerts(at: LocalTime(year: 2026, month: 12, day: 1, hour: 7, minute: 29, second: 55)).isEmpty)
    }

    @Test("disarm silences the rules; re-arming starts afresh (a full dwell again)")
    func disarm() throws {
        let configuration = Self.configuration(zones: [Self.yard()])
        let scene = try S.scene()
        Self.intruder(scene)
        #expect(S.run(scene, frames: 200, configuration: configuration, armed: { _ in false }).isEmpty)
        // Disarmed until frame 100, long after the entry (frame 54): the alert comes a dwell after re-arming.
        let alerts = S.run(scene, frames: 200, configuration: configuration, armed: { $0 >= 100 })
        #expect(alerts.count == 1)
        if let alert = alerts.first {
            #expect(alert.startFrame >= 100, "began at \(alert.startFrame)")
            #expect((120...130).contains(alert.frame), "raised at \(alert.frame)")
        }
    }

    /// `count` walkers in the lower half, side by side (never overlapping), moving right from frame `start`.
    static func group(_ scene: SyntheticScene, count: Int, start: Int, y: Double = 70, spacing: Double = 10) {
        var objects: [SyntheticScene.MovingObject] = []
        for index in 0..<count {
            let column = Double(index % 14)
            let row = Double(index / 14)
            let even = index % 2 == 0
            objects.append(
                SyntheticScene.MovingObject(
                    x: 4 + column * spacing, y: y + row * 26, width: 8, height: 24, dx: 0.6, dy: 0,
                    luma: even ? 30 : 220, frames: start..<(start + 150)))
        }
        scene.objects = objects
    }

    static let square = S.zone("square", kind: .density, x: 0, y: 0.5, width: 1, height: 0.5, dwell: 2)

    @Test("intrusion: the end of a raised situation is the last frame in the zone, told after the re-arm time")
    func intrusionEnds() throws {
        let scene = try S.scene()
        // In the yard from about frame 54, wandering there until frame 109, then gone.
        scene.objects =
            S.walker(from: (20, 80), to: (120, 80), seconds: 4, start: 30, until: 70) + [
                .init(x: 120, y: 80, width: 8, height: 24, dx: -1, dy: 0, luma: 30, frames: 70..<110)
            ]
        var ends: [(end: RuleEnd, decided: Int)] = []
        let alerts = S.run(
            scene, frames: 260, configuration: Self.configuration(zones: [Self.yard()]),
            onEnd: { ends.append(($0, $1)) })
        #expect(alerts.map(\.kind) == [.intrusion])
        #expect(ends.count == 1, "\(ends)")
        guard let (end, decided) = ends.first else { return }
        #expect(end.kind == .intrusion && end.rule == "yard" && end.reason == .quiet)
        #expect((106...112) ~= end.frame, "last in the zone at \(end.frame)")
        // Told once the zone has been quiet for `rearm` (10 s): the unit could raise again from there.
        #expect((100...101) ~= decided - end.frame, "told at \(decided)")
    }

    @Test("intrusion: disarming or the schedule's end stops a raised situation at the last frame it held")
    func intrusionStopped() throws {
        let configuration = Self.configuration(zones: [Self.yard()])
        let schedule = try ZoneSchedule(ranges: ["mon-fri 18:00-23:00"], holidays: [])
        let night = Self.configuration(zones: [Self.yard(schedule: schedule)])
        // The intruder wanders in the yard until frame 230; disarmed (or out of schedule) from frame 120.
        let start = LocalTime(year: 2026, month: 12, day: 1, hour: 22, minute: 59, second: 48)
        for (configuration, armed, localTime) in [
            (configuration, { (frame: Int) in frame < 120 }, { (_: Int) -> LocalTime? in nil }),
            (night, { (_: Int) in true }, { (frame: Int) -> LocalTime? in start.advanced(by: Double(frame) / S.rate) }),
        ] {
            let scene = try S.scene()
            Self.intruder(scene)
            var ends: [(end: RuleEnd, decided: Int)] = []
            let alerts = S.run(
                scene, frames: 200, configuration: configuration, armed: armed, localTime: localTime,
                onEnd: { ends.append(($0, $1)) })
            #expect(alerts.map(\.kind) == [.intrusion])
            #expect(ends.map(\.end.reason) == [.stopped] && ends.map(\.decided) == [120], "\(ends)")
            #expect(ends.first.map { (117...119) ~= $0.end.frame } == true, "\(ends)")
        }
    }

    @Test("density_high: a crowded zone raises one alert within dwell + 1 s; a few people raise none")
    func density() throws {
        let crowded = try S.scene()
        Self.group(crowded, count: 18, start: 40)
        let alerts = S.run(crowded, frames: 160, configuration: Self.configuration(zones: [Self.square]))
        #expect(alerts.count == 1, "\(alerts.map { "\($0.kind)@\($0.frame)" })")
        if let alert = alerts.first {
            #expect(alert.kind == .densityHigh && alert.zone == "square")
            #expect(alert.startFrame >= 40 && alert.startFrame <= 43, "began at \(alert.startFrame)")
            #expect(alert.frame >= 60 && alert.frame <= 70, "raised at \(alert.frame)")
        }
        let few = try S.scene()
        Self.group(few, count: 3, start: 40, spacing: 40)
        #expect(S.run(few, frames: 160, configuration: Self.configuration(zones: [Self.square])).isEmpty)
    }

    @Test("crowd_movement: many people starting to move at once raise one alert within 3 s; one walker none")
    func crowd() throws {
        let crowd = try S.scene()
        Self.group(crowd, count: 20, start: 50)
        let alerts = S.run(crowd, frames: 170, configuration: Self.configuration(zones: [], crowd: true))
        #expect(alerts.count == 1, "\(alerts.map { "\($0.kind)@\($0.frame)" })")
        if let alert = alerts.first {
            #expect(alert.kind == .crowdMovement && alert.rule == "crowd" && alert.zone == nil)
            #expect(alert.startFrame >= 50 && alert.startFrame <= 55, "began at \(alert.startFrame)")
            #expect(alert.frame >= 65 && alert.frame <= 80, "raised at \(alert.frame)")
        }
        let one = try S.scene()
        Self.intruder(one)
        #expect(S.run(one, frames: 200, configuration: Self.configuration(zones: [], crowd: true)).isEmpty)
    }

    enum Negative: String, CaseIterable {
        case lightStep = "a light step", dusk, infrared = "the IR switch", headlights = "headlights sweeping"
        case foliage = "foliage swaying over the zones", rain = "rain-like noise"
    }

    @Test("hard negatives raise no alert of any rule", arguments: Negative.allCases)
    func negatives(_ negative: Negative) throws {
        let scene = try S.scene()
        var effect = S.Effect.none
        switch negative {
        case .lightStep: scene.gain = { $0 >= 50 ? 1.4 : 1 }
        case .dusk: scene.gain = { 1 - 0.7 * min(1, max(0, Double($0 - 30) / 200)) }
        case .infrared: effect = .infrared(start: 60, gain: 0.5, offset: 60)
        case .headlights:
            effect = .headlights(start: 40, seconds: 1, width: 24, boost: 70)
        case .foliage:
            effect = .foliage(rect: (96, 64, 48, 48), amplitude: 3, period: 1.5)
        case .rain:
            scene.noiseSigma = 8
            effect = .rain(150)
        }
        let configuration = Self.configuration(zones: [Self.yard(), Self.square], crowd: true)
        let alerts = S.run(scene, frames: 260, configuration: configuration, effect: effect)
        #expect(alerts.isEmpty, "\(alerts.map { "\($0.kind)@\($0.frame)" })")
    }
}
