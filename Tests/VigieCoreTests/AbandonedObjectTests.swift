import Testing
import VigieCore

/// Objects left on a 160 × 120 street at 10 frames per second, with sensor noise, through the real mask and motion
/// detector, with `[abandoned] seconds = 10`. An object set down must be reported once, between 10 s and 13 s after
/// it stopped, with a box on it, and cleared within 2 s of being taken away; the hard negatives must raise nothing.
@Suite("Abandoned objects")
struct AbandonedObjectTests {
    typealias H = ObjectRulesHarness

    static var settings: AbandonedSettings {
        var settings = AbandonedSettings()
        settings.enabled = true
        settings.seconds = 10
        return settings
    }

    static var configuration: Configuration { H.configuration(abandoned: settings) }

    /// A bag (14 × 10 pixels) slid in from the left over 2 s and left at x = 70, y = 96 from frame `stop` on, until
    /// frame `taken`.
    static func bag(stop: Int, taken: Int, luma: UInt8 = 230) -> [SyntheticScene.MovingObject] {
        [
            .init(x: 30, y: 96, width: 14, height: 10, dx: 2, dy: 0, luma: luma, frames: (stop - 20)..<stop),
            .init(x: 70, y: 96, width: 14, height: 10, dx: 0, dy: 0, luma: luma, frames: stop..<taken),
        ]
    }

    @Test("an object left is reported after `seconds` and cleared when taken", arguments: [UInt8(230), 25])
    func leftAndTaken(luma: UInt8) throws {
        let scene = try H.scene()
        let objects = Self.bag(stop: 60, taken: 300, luma: luma)
        scene.objects = objects
        let alerts = H.run(scene, frames: 340, configuration: Self.configuration)
        #expect(alerts.map(\.kind) == [.abandonedObject, .abandonedCleared], "\(H.describe(alerts))")
        guard alerts.count == 2 else { return }
        let raised = alerts[0]
        let seconds = Int(Self.settings.seconds * H.rate)
        #expect((60 + seconds)...(60 + seconds + 30) ~= raised.frame, "raised at \(raised.frame)")
        #expect((60...75) ~= raised.startFrame, "still from \(raised.startFrame)")
        #expect(raised.time - raised.startTime >= Self.settings.seconds)
        #expect(raised.rule == "abandoned")
        #expect(raised.confidence >= 0.5 && raised.confidence <= 1)
        let box = try #require(raised.boxes.first)
        #expect(box.iou(H.truth(objects[1], frame: raised.frame)) >= 0.5, "\(box)")
        let cleared = alerts[1]
        #expect((300...320) ~= cleared.frame, "cleared at \(cleared.frame)")
        #expect(cleared.startFrame == raised.startFrame)
        #expect(cleared.boxes == raised.boxes)
    }

    @Test func anObjectThereAtStartUpIsNeverReported() throws {
        let scene = try H.scene()
        scene.objects = [.init(x: 70, y: 96, width: 14, height: 10, dx: 0, dy: 0, luma: 230, frames: 0..<400)]
        let alerts = H.run(scene, frames: 250, configuration: Self.configuration)
        #expect(alerts.isEmpty, "\(H.describe(alerts))")
    }

    @Test func anObjectThereAtStartUpThenTakenIsNotReportedEither() throws {
        let scene = try H.scene()
        // What it leaves is the street as it really is: a ghost in the reference, not an object.
        scene.objects = [.init(x: 70, y: 96, width: 14, height: 10, dx: 0, dy: 0, luma: 230, frames: 0..<40)]
        let alerts = H.run(scene, frames: 250, configuration: Self.configuration)
        #expect(alerts.isEmpty, "\(H.describe(alerts))")
    }

    @Test func aPersonStandingStillThenLeavingWithinSecondsRaisesNothing() throws {
        let scene = try H.scene()
        // Walks in over 3 s, stands for 9.5 s (of the 10), walks off.
        scene.objects = [
            .init(x: 10, y: 70, width: 12, height: 30, dx: 2, dy: 0, luma: 225, frames: 20..<50),
            .init(x: 70, y: 70, width: 12, height: 30, dx: 0, dy: 0, luma: 225, frames: 50..<145),
            .init(x: 70, y: 70, width: 12, height: 30, dx: 2, dy: 0, luma: 225, frames: 145..<185),
        ]
        let alerts = H.run(scene, frames: 300, configuration: Self.configuration)
        #expect(alerts.isEmpty, "\(H.describe(alerts))")
    }

    @Test func anObjectWithSomeoneStandingByIsReportedOnceTheyGo() throws {
        let scene = try H.scene()
        let bag = Self.bag(stop: 60, taken: 400)
        // Someone comes to stand against the bag's right side 6 s after it was left, and goes 8 s later (the bag's
        // time is up meanwhile).
        scene.objects =
            bag + [
                .init(x: 140, y: 76, width: 12, height: 30, dx: -2, dy: 0, luma: 40, frames: 92..<120),
                .init(x: 84, y: 76, width: 12, height: 30, dx: 0, dy: 0, luma: 40, frames: 120..<200),
                .init(x: 84, y: 76, width: 12, height: 30, dx: 2, dy: 0, luma: 40, frames: 200..<230),
            ]
        let alerts = H.run(scene, frames: 240, configuration: Self.configuration)
        #expect(alerts.map(\.kind) == [.abandonedObject], "\(H.describe(alerts))")
        let raised = try #require(alerts.first)
        #expect((200...215) ~= raised.frame, "raised at \(raised.frame)")
        let box = try #require(raised.boxes.first)
        #expect(box.iou(H.truth(bag[1], frame: raised.frame)) >= 0.5, "\(box)")
    }

    @Test func aParkedCarLargerThanMaxAreaRaisesNothing() throws {
        let scene = try H.scene()
        // 60 × 30 pixels (9 % of the image): drives in, stays 15 s, drives off.
        scene.objects = [
            .init(x: -60, y: 80, width: 60, height: 30, dx: 4, dy: 0, luma: 40, frames: 20..<40),
            .init(x: 20, y: 80, width: 60, height: 30, dx: 0, dy: 0, luma: 40, frames: 40..<190),
            .init(x: 20, y: 80, width: 60, height: 30, dx: 4, dy: 0, luma: 40, frames: 190..<222),
        ]
        let alerts = H.run(scene, frames: 330, configuration: Self.configuration)
        #expect(alerts.isEmpty, "\(H.describe(alerts))")
    }

    @Test func anObjectInsideAMaskIsNeverReported() throws {
        let scene = try H.scene()
        scene.objects = Self.bag(stop: 60, taken: 400)
        var configuration = Self.configuration
        configuration.mask = PrivacyMask(polygons: [
            try MaskPolygon(name: "doorway", points: Fixtures.rectangle(0.375, 0.7, 0.2, 0.25))
        ])
        let alerts = H.run(scene, frames: 250, configuration: configuration)
        #expect(alerts.isEmpty, "\(H.describe(alerts))")
    }

    @Test func anObjectHalfInsideAMaskIsReportedByItsVisiblePartOnly() throws {
        let scene = try H.scene()
        scene.objects = Self.bag(stop: 60, taken: 400)
        var configuration = Self.configuration
        // The mask's edge cuts the bag (x 70…84 px) at 77 px, through a grid cell.
        let masked = NormalizedRect(x: 77.0 / 160, y: 0.7, width: 1 - 77.0 / 160, height: 0.3)
        configuration.mask = PrivacyMask(polygons: [
            try MaskPolygon(
                name: "doorway", points: Fixtures.rectangle(masked.x, masked.y, masked.width, masked.height))
        ])
        let alerts = H.run(scene, frames: 200, configuration: configuration)
        #expect(alerts.map(\.kind) == [.abandonedObject], "\(H.describe(alerts))")
        for box in alerts.flatMap(\.boxes) { #expect(box.intersection(masked) == nil, "\(box) reaches into the mask") }
    }

    enum Light: String, CaseIterable, CustomTestStringConvertible, Sendable {
        case dusk, step, rain
        var testDescription: String { rawValue }
    }

    /// Dusk: the light falls to 35 % over 20 s; a step: +30 % at once; rain: 150 bright streaks every frame.
    static func apply(_ light: Light, to scene: SyntheticScene) -> (Int, Frame) -> Void {
        switch light {
        case .dusk:
            scene.gain = { frame in 1 - 0.65 * min(1, max(0, Double(frame - 30) / 200)) }
        case .step:
            scene.gain = { $0 < 60 ? 1 : 1.3 }
        case .rain:
            var random = SplitMix(seed: 5)
            return { _, frame in H.rain(frame, streaks: 150, random: &random) }
        }
        return { _, _ in }
    }

    @Test("light and weather raise nothing", arguments: Light.allCases)
    func lightAndWeather(_ light: Light) throws {
        let scene = try H.scene()
        let effect = Self.apply(light, to: scene)
        let alerts = H.run(scene, frames: 260, configuration: Self.configuration, effect: effect)
        #expect(alerts.isEmpty, "\(H.describe(alerts))")
    }

    @Test("an object left at dusk is reported once and not cleared by the light", arguments: [Light.dusk, .step])
    func objectThroughALightChange(_ light: Light) throws {
        let scene = try H.scene()
        scene.objects = Self.bag(stop: 40, taken: 1000)
        let effect = Self.apply(light, to: scene)
        let alerts = H.run(scene, frames: 300, configuration: Self.configuration, effect: effect)
        #expect(alerts.map(\.kind) == [.abandonedObject], "\(H.describe(alerts))")
    }
}
